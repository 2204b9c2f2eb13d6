// The explorer that works offline, over HTTP: the development landing page
// offers it beside Sandbox (and says Sandbox needs internet); its page and
// every asset it can load come from the server's own origin, and the text
// they hold names no other host beyond documentation links and namespaces;
// production serves neither. (test/system/explorer-browser.test.ts
// runs it in Chromium.)
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { errorCodes, startTestApi, type TestApi } from '../support/api.js';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

/**
 * Hosts the explorer's code names without loading anything from them, each
 * for a reason. The browser test blocks every other origin and checks the
 * page made no request there; this list makes a new host in a Ruru update
 * a decision rather than a surprise.
 */
const HARMLESS_HOSTS: Record<string, string> = {
  'www.w3.org': 'SVG and XML namespaces',
  'json-schema.org': 'JSON Schema ids in the JSON editor',
  'github.com': 'licence and issue links',
  'code.visualstudio.com': "links in the editor's help texts",
  'microsoft.com': "a link in the editor's Markdown renderer",
  'webaim.org': 'a comment in a stylesheet',
  'prettier.io': 'a link in an error message',
  'yarnpkg.com': 'a link in graphql-js error text',
  'chevrotain.io': 'links in parser error text',
  'en.wikipedia.org': 'links in error texts, scalar descriptions and licences',
  'unpkg.com': 'the default of a parser-diagram generator the explorer never calls',
  'langium.org': 'a link in parser error text',
  'engelschall.com': 'a licence header',
  'opensource.org': 'a licence header',
  'fontello.com': 'font metadata',
  'commonmark.org': 'a scalar description',
  'www.onegraph.com': 'a credit link',
  'react.dev': 'a link in React error text',
  'radix-ui.com': 'a link in a warning',
  'graphile.org': "the explorer's credit link",
  'www.postgresql.org': 'a documentation link',
  'grafast.org': "the explorer's logo link",
};

/** The hosts of the absolute http(s) URLs in `text`. */
function hostsIn(text: string): Set<string> {
  return new Set([...text.matchAll(/https?:\/\/([A-Za-z0-9.-]+)/g)].map((match) => match[1]!));
}

/** Every file Ruru's package ships for the browser (source maps and licence texts aside). */
function ruruStaticFiles(): string[] {
  const packageDirectory = path.dirname(path.dirname(createRequire(import.meta.url).resolve('ruru')));
  return readdirSync(path.join(packageDirectory, 'static')).filter((file) => !file.endsWith('.map') && !file.endsWith('.txt'));
}

describe('the development landing page', () => {
  it('is Apollo Sandbox with a link to the offline explorer and a word that Sandbox needs internet', async () => {
    const response = await fetch(`${api.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('id="embeddableSandbox"');
    expect(html).toContain('<a href="/graphiql">Ruru</a>');
    expect(html).toMatch(/Sandbox[^<]*needs internet/);
  });
});

describe('the explorer at /graphiql', () => {
  it('is a page that names no other host and loads its scripts, styles and workers from this server', async () => {
    const response = await fetch(`${api.url}/graphiql`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await response.text();
    expect([...hostsIn(html)]).toEqual([]);
    expect(html).toContain('"endpoint": "/graphql"');

    const referenced = new Set<string>();
    for (const match of html.matchAll(/(?:href|src)="([^"]+)"|from "([^"]+)"/g)) referenced.add((match[1] ?? match[2])!);
    // The icon is inline (no favicon request to answer with a 404).
    expect(referenced.delete('data:,')).toBe(true);
    // The editor's workers are named in the page's script (`worker("jsonWorker.js")`).
    for (const match of html.matchAll(/worker\("([^"]+)"\)/g)) referenced.add(`/graphiql/static/${match[1]}`);
    expect([...referenced].sort()).toEqual(
      ['ruru.css', 'ruru.js', 'editorWorker.js', 'graphqlWorker.js', 'jsonWorker.js'].map((file) => `/graphiql/static/${file}`).sort(),
    );
    for (const url of referenced) {
      const asset = await fetch(`${api.url}${url}`);
      expect({ url, status: asset.status }).toEqual({ url, status: 200 });
      // Read to the end, as a browser does: an unread body holds its connection, and the server's close waits for it.
      await asset.arrayBuffer();
    }
  });

  it('serves every asset Ruru ships, naming only harmless hosts', async () => {
    const files = ruruStaticFiles();
    expect(files.length).toBeGreaterThan(50);
    const unexpected: string[] = [];
    for (const file of files) {
      const asset = await fetch(`${api.url}/graphiql/static/${file}`);
      expect({ file, status: asset.status }).toEqual({ file, status: 200 });
      const type = asset.headers.get('content-type') ?? '';
      expect(type).toMatch(/^(text\/javascript|text\/css|font\/ttf)/);
      const text = await asset.text();
      if (type.startsWith('font/')) continue;
      for (const host of hostsIn(text)) if (!(host in HARMLESS_HOSTS)) unexpected.push(`${file}: ${host}`);
    }
    expect(unexpected).toEqual([]);
  });

  it('answers 404 for a file it does not have, and 304 to a browser holding the current one', async () => {
    expect((await fetch(`${api.url}/graphiql/static/nothing-here.js`)).status).toBe(404);
    const first = await fetch(`${api.url}/graphiql/static/ruru.css`);
    const etag = first.headers.get('etag');
    await first.arrayBuffer();
    expect(etag).toBeTruthy();
    expect((await fetch(`${api.url}/graphiql/static/ruru.css`, { headers: { 'if-none-match': etag! } })).status).toBe(304);
  });
});

describe('in production', () => {
  it('serves neither the explorer, nor a link to it, nor introspection', async () => {
    const production = await startTestApi({ NODE_ENV: 'production' }, { ...api.database, close: async () => {} });
    try {
      expect((await fetch(`${production.url}/graphiql`)).status).toBe(404);
      expect((await fetch(`${production.url}/graphiql/static/ruru.js`)).status).toBe(404);
      const landing = await fetch(`${production.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(await landing.text()).not.toContain('/graphiql');
      // Nor does it answer the introspection an explorer would send.
      const introspection = await production.request('{ __schema { queryType { name } } }');
      expect(errorCodes(introspection)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    } finally {
      await production.close();
    }
  });
});

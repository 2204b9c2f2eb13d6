// The explorer that works offline: Ruru (Graphile's GraphiQL distribution)
// served by the API itself, its assets from the installed package, so
// nothing is fetched from a CDN. Development and test only, like Sandbox:
// ruru is a development dependency, loaded only when the explorer is served.
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';

export interface ExplorerOptions {
  /** Where the explorer's page is served. Default: `/graphiql`. */
  path?: string;
  /** The GraphQL endpoint it queries. Default: `/graphql`. */
  endpoint?: string;
}

export const DEFAULT_EXPLORER_PATH = '/graphiql';

/** The query of the README's first steps: what a first visit opens with. */
export const EXAMPLE_QUERY = `query {
  viewer {
    displayName
    level
    conversations(first: 5) {
      edges { node { title unreadCount lastMessage { body author { displayName } } } }
    }
  }
}
`;

// A token is not filled in: the page is served to anyone who reaches the
// development server, and the demo token is printed to its terminal only.
const EXAMPLE_HEADERS = `{
  "Authorization": "Bearer <the token npm run dev printed>"
}
`;

/**
 * Whether ruru is installed. The container image leaves development
 * dependencies out, so a development server running from it has no explorer
 * to serve (and says so); Sandbox stays.
 */
export function isExplorerInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('ruru/server');
    return true;
  } catch {
    return false;
  }
}

async function loadRuru() {
  try {
    const [server, files] = await Promise.all([import('ruru/server'), import('ruru/static')]);
    return { ruruHTML: server.ruruHTML, getStaticFile: files.getStaticFile };
  } catch (error) {
    throw new Error(
      'The explorer (served outside production) needs the development dependency ruru: run `npm install`, ' +
        `or set NODE_ENV=production. (${(error as Error).message})`,
      { cause: error },
    );
  }
}

/** Serves Ruru's page at `path` and its assets under `path/static/`, from the ruru package. */
export async function registerExplorer(fastify: FastifyInstance, { path = DEFAULT_EXPLORER_PATH, endpoint = '/graphql' }: ExplorerOptions = {}): Promise<void> {
  const { ruruHTML, getStaticFile } = await loadRuru();
  // Ruru resolves its chunks and workers against this path: a path on this server, not its CDN default.
  const staticPath = `${path}/static/`;
  const html = ruruHTML({
    endpoint,
    // Subscriptions run over WebSocket at the same path (ws(s)://host/graphql,
    // graphql-ws); Ruru sends the headers editor's content as connection_init's
    // payload, so the token given there signs the socket in too.
    subscriptionEndpoint: endpoint,
    staticPath,
    clientConfig: { defaultQuery: EXAMPLE_QUERY, defaultHeaders: EXAMPLE_HEADERS },
    htmlParts: {
      titleTag: '<title>Parley · GraphQL explorer</title>',
      // No favicon request to answer with a 404.
      metaTags: (original) => `${original}\n<link rel="icon" href="data:," />`,
    },
  });

  fastify.get(path, async (_request, reply) => reply.type('text/html; charset=utf-8').send(html));

  fastify.get(`${staticPath}*`, async (request, reply) => {
    // Brotli-compressed in the package; decompressed for a client that does not accept br.
    const file = await getStaticFile({ staticPath, urlPath: request.url, acceptEncoding: request.headers['accept-encoding'] });
    if (!file) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    if (request.headers['if-none-match'] === file.headers.etag) return reply.code(304).header('etag', file.headers.etag).send();
    return reply.headers(file.headers).send(file.content);
  });
}

// The offline explorer in a real browser: Debian's Chromium, driven by
// playwright-core, with every request to another origin blocked and
// recorded. The landing page (Sandbox, which cannot load) links the
// explorer; /graphiql renders with the README's query, takes a token in its
// headers as a developer gives it, runs the query and shows the answer, and
// runs a subscription over WebSocket and shows its events, having reached
// nothing but this server and logged no error. Screenshots
// go to test-results/.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { EXAMPLE_QUERY } from '../../src/http/explorer.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { CHROMIUM, INSTALL_CHROMIUM } from '../support/chromium.mjs';
import { insertInbox, type InboxFixture } from '../support/fixtures.js';
import { waitFor } from '../support/wait-for.js';
import { SendMessageDocument } from '../../src/generated/graphql/operations.js';
import { toGlobalId } from '../../src/graphql/relay/global-id.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Screenshots: explorer.png, landing-page.png (gitignored). */
const RESULTS = path.join(ROOT, 'test-results');

let api: TestApi;
let inbox: InboxFixture;
let profile: string;
let context: BrowserContext;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`This test drives Chromium at ${CHROMIUM}, which is not installed: ${INSTALL_CHROMIUM} (.ci/run does).`);
  }
  api = await startTestApi();
  inbox = await insertInbox(api.database.pool, { conversations: 2, messagesEach: 3 });
  await api.database.pool.query("UPDATE users SET display_name = 'Ada Explorer' WHERE id = $1", [inbox.viewer.id]);
  profile = mkdtempSync(path.join(tmpdir(), 'parley-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 720 },
  });
});

afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await api?.close();
});

/** Subscriptions to `field` the server holds now. */
const following = (field: string) => api.server.realtimeActivity.subscriptions.get(field) ?? 0;

/** The query of the README's "Two commands" section. */
function readmeQuery(): string {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Two commands'));
  const block = /```graphql\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README.md: no graphql block in the "Two commands" section');
  return block[1]!;
}

/**
 * Runs in the page: the text of the first element matching `selector`, with
 * the non-breaking spaces the editor draws turned back into spaces.
 */
const textOf = `(selector) => (document.querySelector(selector)?.textContent ?? '').replace(/\u00a0/g, ' ')`;

/** What the pages of a test reached: other origins (blocked), failed loads, errors in the console. */
interface Traffic {
  elsewhere: string[];
  failed: string[];
  errors: string[];
}

/** A fresh page whose requests to any origin but the server's are blocked and recorded. */
async function offlinePage() {
  const origin = new URL(api.url).origin;
  const traffic: Traffic = { elsewhere: [], failed: [], errors: [] };
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  await page.route('**/*', (route) => {
    if (new URL(route.request().url()).origin === origin) return route.continue();
    traffic.elsewhere.push(route.request().url());
    return route.abort('blockedbyclient');
  });
  page.on('requestfailed', (request) => {
    if (new URL(request.url()).origin === origin) traffic.failed.push(`${request.url()}: ${request.failure()?.errorText}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) traffic.failed.push(`${response.url()}: HTTP ${response.status()}`);
  });
  page.on('console', (message) => {
    if (message.type() === 'error') traffic.errors.push(message.text());
  });
  page.on('pageerror', (error) => traffic.errors.push(error.message));
  return { page, traffic, origin };
}

/** Written whatever the outcome of `steps`: on a failure, the picture shows what the page showed. */
async function withScreenshot(page: Page, file: string, steps: () => Promise<void>): Promise<void> {
  try {
    await steps();
  } finally {
    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: path.join(RESULTS, file) });
  }
}

describe('the explorer in Chromium, offline', () => {
  // First, on the browser's new empty profile: a developer's first visit.
  it("renders, runs the README's query with a token and shows the answer, reaching nothing but this server", async () => {
    expect(EXAMPLE_QUERY).toBe(readmeQuery());
    const { page, traffic, origin } = await offlinePage();
    await withScreenshot(page, 'explorer.png', async () => {
      await page.goto(`${api.url}/graphiql`);
      // Rendered, with the README's query in the editor.
      await page.waitForFunction(`(${textOf})('.graphiql-query-editor .view-lines').includes('conversations(first: 5)')`);

      // The token goes in the headers editor, pasted over the placeholder as a
      // developer pastes it (typed, the editor would add closing brackets and quotes).
      const headers = page.locator('.graphiql-editor-tool [data-uri$="headers.json"]');
      if (!(await headers.isVisible())) await page.getByText('Headers', { exact: true }).click();
      await headers.click();
      await page.keyboard.press('ControlOrMeta+A');
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
      const headersJson = JSON.stringify({ Authorization: `Bearer ${await api.tokenFor(inbox.viewer.id)}` });
      await page.evaluate(`navigator.clipboard.writeText(${JSON.stringify(headersJson)})`);
      await page.keyboard.press('ControlOrMeta+V');

      await page.locator('.graphiql-execute-button').click();
      await page.waitForFunction(`(${textOf})('.graphiql-response').includes('Ada Explorer')`);
    });
    const answer = ((await page.locator('.graphiql-response').textContent()) ?? '').replace(/\u00a0/g, ' ');
    expect(answer).toContain('"displayName": "Ada Explorer"');
    expect(answer).toContain('"title": "Group 1"');
    expect(answer).not.toContain('"errors"');
    expect(existsSync(path.join(RESULTS, 'explorer.png'))).toBe(true);
    expect(traffic).toEqual({ elsewhere: [], failed: [], errors: [] });
    await page.close();
  });

  it('runs a subscription over WebSocket, with the token of its headers, and shows each event as it comes', async () => {
    const { page, traffic, origin } = await offlinePage();
    const sockets: string[] = [];
    page.on('websocket', (socket) => sockets.push(socket.url()));
    const conversationId = toGlobalId('Conversation', inbox.conversationIds[0]!);
    await withScreenshot(page, 'explorer-subscription.png', async () => {
      await page.goto(`${api.url}/graphiql`);
      // The profile is the first test's: the explorer opens the tabs left there, or an empty one.
      await page.locator('.graphiql-query-editor .view-lines').waitFor();
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
      /** Replaces an editor's text, pasted as a developer pastes it. */
      const paste = async (editor: string, text: string) => {
        await page.locator(editor).click();
        await page.keyboard.press('ControlOrMeta+A');
        await page.evaluate(`navigator.clipboard.writeText(${JSON.stringify(text)})`);
        await page.keyboard.press('ControlOrMeta+V');
      };
      const headers = '.graphiql-editor-tool [data-uri$="headers.json"]';
      if (!(await page.locator(headers).isVisible())) await page.getByText('Headers', { exact: true }).click();
      await paste(headers, JSON.stringify({ Authorization: `Bearer ${await api.tokenFor(inbox.viewer.id)}` }));
      await paste(
        '.graphiql-query-editor .view-lines',
        `subscription Live { messageAdded(conversationId: "${conversationId}") { body author { displayName } } }`,
      );
      // The explorer parses the editor's text a moment later; run before, it
      // would send the previous document. The tab takes the operation's name then.
      await page.locator('.graphiql-tabs').getByText('Live', { exact: true }).waitFor();
      await page.locator('.graphiql-execute-button').click();
      await waitFor(() => following('messageAdded') > 0, 'the subscription on the server');
      const friend = inbox.others[0]!;
      await api.request(SendMessageDocument, { conversationId, body: 'live in the explorer' }, { token: await api.tokenFor(friend.id) });
      await page.waitForFunction(`(${textOf})('.graphiql-response').includes('live in the explorer')`);
    });
    expect(sockets).toEqual([`${origin.replace(/^http/, 'ws')}/graphql`]);
    const answer = ((await page.locator('.graphiql-response').textContent()) ?? '').replace(/\u00a0/g, ' ');
    expect(answer).toContain('"body": "live in the explorer"');
    expect(answer).not.toContain('"errors"');
    expect(traffic).toEqual({ elsewhere: [], failed: [], errors: [] });
    await page.close();
    await waitFor(() => following('messageAdded') === 0, 'the subscription to end with the page');
  });

  it('is offered by the landing page, which says Sandbox needs internet', async () => {
    const { page, traffic } = await offlinePage();
    await withScreenshot(page, 'landing-page.png', async () => {
      await page.goto(`${api.url}/graphql`);
      await page.getByText('needs internet').waitFor();
    });
    await page.getByRole('link', { name: 'Ruru' }).click();
    await page.waitForURL(`${api.url}/graphiql`);
    // Sandbox was asked for, from Apollo's servers, and could not load.
    expect(traffic.elsewhere.some((url) => new URL(url).hostname.endsWith('apollographql.com'))).toBe(true);
    await page.close();
  });
});

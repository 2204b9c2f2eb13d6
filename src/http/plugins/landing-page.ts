import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import type { Context } from '../../graphql/context.js';

export interface LandingPageOptions {
  /** Where the offline explorer is served (see explorer.ts). */
  explorerPath: string;
}

/**
 * The development landing page (a browser's GET /graphql): Apollo Sandbox,
 * as Apollo's own local default renders it, under a bar that says Sandbox
 * is loaded from Apollo's servers and links the explorer this server serves
 * itself, which works offline. Apollo's page offers no place for content of
 * our own, so the bar goes in after its <body>, styled under the page's own
 * CSP nonce; a page shaped otherwise (a new Apollo Server) fails the server
 * start rather than losing the link.
 */
export function landingPagePlugin({ explorerPath }: LandingPageOptions): ApolloServerPlugin<Context> {
  const sandbox = ApolloServerPluginLandingPageLocalDefault({ embed: true, footer: false });
  return {
    async serverWillStart(service) {
      const listener = await sandbox.serverWillStart?.(service);
      const render = listener?.renderLandingPage?.bind(listener);
      if (!render) throw new Error("Apollo's local landing page plugin no longer renders a landing page");
      return {
        async renderLandingPage() {
          const page = await render();
          const sandboxHtml = async () => (typeof page.html === 'string' ? page.html : page.html());
          // Checked once at start, so a changed page fails loudly there.
          withExplorerBar(await sandboxHtml(), explorerPath);
          return { html: async () => withExplorerBar(await sandboxHtml(), explorerPath) };
        },
      };
    },
  };
}

const BAR_HEIGHT = '2.25rem';

/** Apollo's Sandbox page with the bar above it. */
export function withExplorerBar(html: string, explorerPath: string): string {
  const nonce = /'nonce-([A-Za-z0-9+/=_-]+)'/.exec(html)?.[1];
  const body = html.indexOf('<body>');
  if (!nonce || body < 0 || !html.includes('id="embeddableSandbox"')) {
    throw new Error("Apollo's landing page changed shape (no <body>, CSP nonce or Sandbox element): update src/http/plugins/landing-page.ts");
  }
  const bar = `
    <style nonce="${nonce}">
      .parley-explorers { box-sizing: border-box; height: ${BAR_HEIGHT}; padding: 0 1em; display: flex; align-items: center; gap: 0.5em;
        font: 14px/1.4 system-ui, sans-serif; background: #f4f6f8; color: #1c2733; border-bottom: 1px solid #d0d7de; }
      .parley-explorers a { color: #0b5cad; font-weight: 600; }
      #embeddableSandbox { top: ${BAR_HEIGHT} !important; height: calc(100vh - ${BAR_HEIGHT}) !important; }
    </style>
    <nav class="parley-explorers">
      <span>Apollo Sandbox, below, is loaded from Apollo's servers: it needs internet.</span>
      <span>Offline, or prefer GraphiQL? <a href="${explorerPath}">Ruru</a>, served by this API itself.</span>
    </nav>`;
  const at = body + '<body>'.length;
  return html.slice(0, at) + bar + html.slice(at);
}

// Internal: Apollo Client 4 as a web app builds it (InMemoryCache with the
// shipped type policies, HttpLink over fetch), signed in as one user of a
// test server, with what the tests watch: each HTTP request it sends, by
// operation name, and what Apollo Client prints.
import type { ApolloClient } from '@apollo/client';

export interface TestApolloClient {
  client: ApolloClient;
  /** The operation name of each HTTP request sent so far, in order. */
  requests: string[];
  /** What Apollo Client printed through console.warn/error since it started. */
  warnings: string[];
  /** Stops the client and puts the console back. */
  stop: () => void;
}

/**
 * A client of the server at `url` (http://host:port) with `token`. Apollo
 * Client reports cache problems (missing fields, data lost in a write) only
 * in development builds: development is turned on before the first import of
 * it (hence the dynamic imports), and the console is captured until stop().
 */
export async function startApolloClient({ url, token }: { url: string; token: string }): Promise<TestApolloClient> {
  (globalThis as { __DEV__?: boolean }).__DEV__ = true;
  const { ApolloClient: Client, HttpLink, InMemoryCache } = await import('@apollo/client');
  const { loadDevMessages, loadErrorMessages } = await import('@apollo/client/dev');
  const { possibleTypes, typePolicies } = await import('../../clients/type-policies.js');
  loadDevMessages();
  loadErrorMessages();

  const requests: string[] = [];
  const warnings: string[] = [];
  const restore: (() => void)[] = [];
  for (const method of ['warn', 'error'] as const) {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- kept only to be put back, never called
    const original = console[method];
    console[method] = (...args: unknown[]) => {
      warnings.push(`${method}: ${args.map(String).join(' ')}`);
    };
    restore.push(() => {
      console[method] = original;
    });
  }
  const client = new Client({
    link: new HttpLink({
      uri: `${url}/graphql`,
      headers: { authorization: `Bearer ${token}` },
      fetch: (input, init) => {
        requests.push((JSON.parse(typeof init?.body === 'string' ? init.body : '{}') as { operationName?: string }).operationName ?? '(unnamed)');
        return fetch(input, init);
      },
    }),
    cache: new InMemoryCache({ typePolicies, possibleTypes }),
  });
  return {
    client,
    requests,
    warnings,
    stop: () => {
      client.stop();
      for (const undo of restore.reverse()) undo();
    },
  };
}

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

/** What Apollo Client printed, captured from the console until restore(). */
export interface ApolloWarnings {
  warnings: string[];
  restore: () => void;
}

/**
 * Apollo Client reports cache problems (missing fields, data lost in a
 * write) only in development builds: development is turned on before the
 * first import of it (hence the dynamic imports; call this before importing
 * anything that loads it), its messages loaded, and the console captured.
 */
export async function captureApolloWarnings(): Promise<ApolloWarnings> {
  (globalThis as { __DEV__?: boolean }).__DEV__ = true;
  const { loadDevMessages, loadErrorMessages } = await import('@apollo/client/dev');
  loadDevMessages();
  loadErrorMessages();
  const warnings: string[] = [];
  const undo: (() => void)[] = [];
  for (const method of ['warn', 'error'] as const) {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- kept only to be put back, never called
    const original = console[method];
    console[method] = (...args: unknown[]) => {
      warnings.push(`${method}: ${args.map(String).join(' ')}`);
    };
    undo.push(() => {
      console[method] = original;
    });
  }
  return {
    warnings,
    restore: () => {
      for (const step of undo.reverse()) step();
    },
  };
}

/** A client of the server at `url` (http://host:port) with `token`, Apollo Client's warnings captured until stop(). */
export async function startApolloClient({ url, token }: { url: string; token: string }): Promise<TestApolloClient> {
  const { warnings, restore } = await captureApolloWarnings();
  const { ApolloClient: Client, HttpLink, InMemoryCache } = await import('@apollo/client');
  const { possibleTypes, typePolicies } = await import('../../clients/type-policies.js');
  const requests: string[] = [];
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
      restore();
    },
  };
}

import { createHash } from 'node:crypto';
import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import { parse, print } from 'graphql';
import { PersistedQueryNotInListError } from '../graphql/errors.js';

/** Apollo's persisted query manifest (src/generated/graphql/persisted-query-manifest.ts). */
export interface PersistedQueryManifest {
  operations: readonly { id: string; name: string; body: string }[];
}

/** The parameters of a GraphQL request over HTTP: a POST body, or a GET query string (where `extensions` is JSON text). */
export interface RequestParameters {
  query?: unknown;
  extensions?: unknown;
}

export interface AllowList {
  /** Apollo's persisted query cache in allow-list mode: the listed documents by hash; nothing can be added to it. */
  cache: KeyValueCache<string>;
  /**
   * The refusal for a request that names an operation outside the list, by
   * text or by hash; undefined for a listed one, and for a request naming
   * none (Apollo answers it: the landing page, or BAD_REQUEST).
   */
  refusal(parameters: RequestParameters): PersistedQueryNotInListError | undefined;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The document's canonical text, as graphql-js prints it (what the manifest holds), or undefined when it does not parse. */
function printed(source: string): string | undefined {
  try {
    return print(parse(source, { noLocation: true }));
  } catch {
    return undefined;
  }
}

function hashOf(extensions: unknown): unknown {
  let value = extensions;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return (value as { persistedQuery?: { sha256Hash?: unknown } } | null | undefined)?.persistedQuery?.sha256Hash;
}

/**
 * PERSISTED_QUERIES=allowlist: only the operations of clients/operations/
 * run, sent by hash alone (Apollo's persisted query protocol) or by their
 * text, in any layout (the text is compared as graphql-js prints it). Anything
 * else is refused before it is parsed by Apollo, validated or run:
 * introspection and explorers included, which is the point in production.
 */
export function createAllowList(manifest: PersistedQueryManifest): AllowList {
  const byHash = new Map(manifest.operations.map((operation) => [operation.id, operation.body]));
  const refuse = () => new PersistedQueryNotInListError('This server runs only its known operations (clients/operations/): this one is not among them.');
  return {
    cache: {
      // Apollo prefixes its keys (`apq:<sha256>`).
      get: async (key) => byHash.get(key.slice(key.indexOf(':') + 1)),
      // A client registering a document (APQ) adds nothing: the list is fixed at build time.
      set: async () => {},
      delete: async () => false,
    },
    refusal({ query, extensions }) {
      if (typeof query === 'string' && query !== '') {
        if (byHash.has(sha256(query))) return undefined;
        const canonical = printed(query);
        return canonical !== undefined && byHash.has(sha256(canonical)) ? undefined : refuse();
      }
      const hash = hashOf(extensions);
      if (hash === undefined) return undefined;
      return typeof hash === 'string' && byHash.has(hash) ? undefined : refuse();
    },
  };
}

import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCallback, constants as zlibConstants } from 'node:zlib';
import { getOperationAST, print, printSchema, type DocumentNode, type FormattedExecutionResult, type GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../db/clock.js';
import { readCachePolicies, type CachePolicy } from '../graphql/cache-policy.js';
import type { Viewer } from '../graphql/viewer.js';
import type { Tag } from '../writes/tags.js';
import { answerKey, documentHash, scopeOf } from './cache-key.js';
import { documentPolicy } from './document-policy.js';
import { answerText, dataOf } from '../graphql/raw-data.js';
import { collectTags, planTags, withIdentityFields, type ListTags, type ValuePlan } from './entity-tags.js';
import { createCacheCounters, failOpen, type CacheCounters } from './fail-open.js';
import type { AnswerMeta, CacheLookup, InvalidationPoint, ResponseCache } from './response-cache.js';

// On libuv's thread pool, off the event loop. Level 1: nearly the ratio of
// the default level (6.5× against 7× on the reference inbox) in a third of the time.
const gzip = promisify(gzipCallback);
const GZIP_OPTIONS = { level: zlibConstants.Z_BEST_SPEED };

/** What the cache needs to know about one operation of one document, worked out once. */
export type OperationAnalysis = { cacheable: false } | CacheableOperation;

/** A query whose policy allows caching (maxAge > 0) and whose answers can be tagged. */
export interface CacheableOperation {
  cacheable: true;
  /** Its scope and TTL, from the document and the schema's @cacheControl. */
  policy: CachePolicy;
  /** The normalized document's hash, with the schema's. */
  hash: string;
  /** The document to run: with the fields tagging needs (entity-tags.ts). */
  executable: DocumentNode;
  plan: ValuePlan | undefined;
  /** The variables the operation declares: the only ones its answer can depend on. */
  variableNames: readonly string[];
}

const UNCACHEABLE: OperationAnalysis = { cacheable: false };

export interface OperationCacheOptions {
  schema: GraphQLSchema;
  /** The tags of the schema's list fields, from the domains that resolve them. No default: an untagged list would outlive the writes that change it. */
  listTags: ListTags;
  /** Where answers live (redis-store.ts or memory-store.ts); its failures never reach a request. */
  store: ResponseCache;
  /** Where an outage of the store is logged. */
  logger: Pick<FastifyBaseLogger, 'warn' | 'info'>;
  /** Distinct documents whose analysis is kept (least recently used go first). Default: 1,000. */
  maxDocuments?: number;
  /** Characters of document text those may hold in all. Default: 16 Mi. */
  maxDocumentCharacters?: number;
  /** When answers are computed, and how old they are when served (db/clock.ts): the store's clock. Default: Date.now(). */
  clock?: Clock;
}

/** The answer of an operation that ran, for identical requests that waited for it. */
export interface SharedAnswer {
  result: FormattedExecutionResult;
  answer: AnswerMeta;
}

/** A cacheable operation this request runs, for others to join. */
export interface Lead {
  /**
   * The operation ran (`result` undefined: it gave no single result).
   * Removes the fields added for tagging from the result, always; when it is
   * a complete answer (data, no errors, every entity's id readable), gives
   * it to the requests waiting for it, stores it in the background, and
   * returns it. Otherwise those waiting run the operation themselves.
   * @param options.storable false: the answer may predate a write whose invalidation has run (read on a replica behind it): treated as incomplete. Default: true.
   */
  finish(result: FormattedExecutionResult | undefined, options?: { storable?: boolean }): AnswerMeta | undefined;
}

interface Running {
  /** The lookup's; undefined when the store could not tell (then it is not in `running`). */
  since: InvalidationPoint | undefined;
  invalidations: number;
  shared: Promise<SharedAnswer | undefined>;
}

/**
 * The response cache as the server uses it: analyses of documents (scope,
 * TTL, tag plan) made once each; keys; lookups, stores and invalidations
 * through a fail-open store; identical misses coalesced; counters.
 */
export function createOperationCache({
  schema,
  listTags,
  store: rawStore,
  logger,
  maxDocuments = 1_000,
  maxDocumentCharacters = 16 * 1024 * 1024,
  clock = Date.now,
}: OperationCacheOptions) {
  const counters: CacheCounters = createCacheCounters();
  const store = failOpen(rawStore, { logger, counters });
  const policies = readCachePolicies(schema);
  // Answers computed under another schema (an instance of another version on the same Redis) have other keys.
  const schemaHash = createHash('sha256').update(printSchema(schema)).digest('base64url');
  // By document text, then operation name: the text a client sends is found without parsing it.
  const documents = new LRUCache<string, Map<string, OperationAnalysis>>({
    max: maxDocuments,
    maxSize: maxDocumentCharacters,
    sizeCalculation: (_analyses, source) => source.length + 1,
  });
  const running = new Map<string, Running>();
  // Invalidations made by this instance, lost by the store or not: a request
  // never joins an operation that started before one of them (its answer may
  // predate the write).
  let invalidations = 0;
  // The exact bytes of answers stored, so Apollo Server does not serialize them a second time.
  const serialized = new WeakMap<object, { text: string; extensions: FormattedExecutionResult['extensions'] }>();
  const storing = new Set<Promise<void>>();

  const analyzeOnce = (document: DocumentNode, operationName: string | null | undefined): OperationAnalysis => {
    const operation = getOperationAST(document, operationName);
    if (!operation) return UNCACHEABLE;
    const policy = documentPolicy(schema, policies, document, operation);
    if (!policy || policy.maxAge <= 0) return UNCACHEABLE;
    const identity = withIdentityFields(schema, document);
    if (!identity) return UNCACHEABLE;
    const executable = identity.document;
    const executableOperation = getOperationAST(executable, operationName);
    if (!executableOperation) return UNCACHEABLE;
    let plan: ValuePlan | undefined;
    try {
      plan = planTags(schema, executable, executableOperation, listTags);
    } catch (error) {
      logger.warn({ err: error }, 'response cache: a document cannot be tagged; its answers are not cached');
      return UNCACHEABLE;
    }
    const variableNames = (operation.variableDefinitions ?? []).map((definition) => definition.variable.name.value);
    return { cacheable: true, policy, hash: documentHash(schemaHash, print(document)), executable, plan, variableNames };
  };

  return {
    counters,

    /**
     * The analysis of an operation Apollo Server has parsed and validated,
     * made on its first request and kept.
     * @param source the document's text, as the client sent it
     * @param document its parsed form
     * @param operationName the operation the request names (null or undefined: the document's only one)
     */
    analyze(source: string, document: DocumentNode, operationName: string | null | undefined): OperationAnalysis {
      // Not kept for a name the document lacks: random names would fill the map.
      if (!getOperationAST(document, operationName)) return UNCACHEABLE;
      let byName = documents.get(source);
      if (!byName) documents.set(source, (byName = new Map()));
      let analysis = byName.get(operationName ?? '');
      if (!analysis) byName.set(operationName ?? '', (analysis = analyzeOnce(document, operationName)));
      return analysis;
    },

    /** The analysis of a document already validated and analyzed, or undefined (then Apollo Server must see it). */
    known(source: string, operationName: string | null | undefined): OperationAnalysis | undefined {
      return documents.get(source)?.get(operationName ?? '');
    },

    /**
     * The key of an answer, from the variables the operation declares (graphql-js
     * ignores others: a client adding `{"junk": …}` must not mint new keys);
     * undefined when they cannot be keyed (a value nested deeper than the stack
     * allows, which graphql-js refuses as BAD_USER_INPUT): then nothing is
     * looked up or stored.
     * @param variables the request's variables as the client sent them
     * @param viewer the signed-in user (only read for PRIVATE operations)
     */
    keyOf(analysis: CacheableOperation, operationName: string | null | undefined, variables: unknown, viewer: Viewer | null): string | undefined {
      const sent = (variables ?? {}) as Record<string, unknown>;
      const declared: Record<string, unknown> = {};
      for (const name of analysis.variableNames) if (Object.hasOwn(sent, name)) declared[name] = sent[name];
      try {
        return answerKey(analysis.hash, operationName, declared, scopeOf(analysis.policy.scope, viewer));
      } catch (error) {
        if (error instanceof RangeError) return undefined;
        throw error;
      }
    },

    /** Looks up an answer; never throws (a failing store is a miss). */
    lookup(key: string): Promise<CacheLookup> {
      return store.get(key);
    },

    /**
     * The answer of an identical operation running now, when joining it is
     * provably safe: both lookups read the store's count of invalidations
     * (`since`), and read the same count, and this instance made no
     * invalidation in between. Then no write that returned before this
     * request's lookup can be missing from that operation's answer: a write
     * returns after its invalidation has counted one more in the store; an
     * invalidation the store lost counts once the instance that lost it
     * raises the store's floor (redis-store.ts), and at once here when it
     * is this instance's. When either lookup could not tell (the store timed
     * out: `since` undefined), nothing is known of the writes in between,
     * and the request runs the operation itself.
     * Undefined (now, or once the other one ended without an answer to
     * share): run it yourself.
     */
    join(key: string, since: InvalidationPoint | undefined): Promise<SharedAnswer | undefined> | undefined {
      // Synchronous up to here: a request that finds no leader leads before any other request runs.
      const leader = running.get(key);
      if (!leader?.since || !since || leader.invalidations !== invalidations || leader.since.epoch !== since.epoch) return undefined;
      return leader.shared;
    },

    /**
     * Marks `key` as running, for identical requests to join. Call `finish`
     * of the returned lead exactly once, when the operation has run.
     * @param viewer the signed-in user the operation runs for: the tags of lists of their own (searches) name them
     */
    lead(key: string, analysis: CacheableOperation, since: InvalidationPoint | undefined, viewer: Viewer | null): Lead {
      let settle!: (shared: SharedAnswer | undefined) => void;
      const entry: Running = { since, invalidations, shared: new Promise((resolve) => (settle = resolve)) };
      // Nobody may join an operation whose lookup could not tell (see join): it does not displace one they may join.
      if (since) running.set(key, entry);
      const release = () => {
        if (running.get(key) === entry) running.delete(key);
      };
      return {
        finish(result, { storable = true } = {}) {
          // Raw JSON text (a compiled read) is parsed for its tags; it carries
          // no reserved key to remove (with them, compiled reads answer objects).
          const found = result && collectTags(dataOf(result.data), analysis.plan, viewer?.id);
          if (!result || !found || result.errors || !result.data || !storable) {
            release();
            settle(undefined);
            return undefined;
          }
          // As Apollo Server writes it. Extensions (the cost) depend on the
          // document and the variables only, like the key: they are kept.
          const text = answerText({ data: result.data, extensions: result.extensions });
          serialized.set(result.data, { text, extensions: result.extensions });
          const answer: AnswerMeta = { storedAt: clock(), maxAge: analysis.policy.maxAge, scope: analysis.policy.scope };
          settle({ result, answer });
          if (!since) {
            release();
            return answer;
          }
          // The answer goes to the client without waiting for the store;
          // meanwhile identical requests still join it (it is as fresh as a
          // stored one: they join only if no invalidation came in between).
          const stored = gzip(text, GZIP_OPTIONS)
            .then((gzipped) => store.set(key, { ...answer, gzipped }, [...found], since))
            .catch((error: unknown) => logger.warn({ err: error }, 'response cache: an answer could not be compressed; not stored'))
            .then(() => {
              release();
              storing.delete(stored);
            });
          storing.add(stored);
          return answer;
        },
      };
    },

    /** Resolves once the answers being stored now are stored (or refused): before closing the store's connection. */
    async drain(): Promise<void> {
      await Promise.all([...storing]);
    },

    /** The headers of a cacheable answer (cacheHeaders), aged by the cache's clock. */
    headers(answer: AnswerMeta): ReturnType<typeof cacheHeaders> {
      return cacheHeaders(answer, clock());
    },

    /** Apollo Server's `stringifyResult`: reuses the text of an answer just stored. */
    stringifyResult(value: FormattedExecutionResult): string {
      const stored = value.data && !value.errors ? serialized.get(value.data) : undefined;
      return stored && stored.extensions === value.extensions ? stored.text : answerText(value);
    },

    /**
     * Drops every answer carrying one of `tags`, on every instance sharing the
     * store. Never throws.
     * @param tags what a write touched (writes/tags.ts), or `Leaderboard` and `Stats` after a refresh of the statistics
     */
    async invalidate(tags: readonly Tag[]): Promise<void> {
      if (tags.length === 0) return;
      invalidations += 1;
      await store.invalidate(tags);
    },
  };
}

export type OperationCache = ReturnType<typeof createOperationCache>;

/**
 * The headers of a cacheable answer: `cache-control`, `age`, and `vary`
 * (a hit may come gzip-compressed, see http/response-cache.ts).
 */
export function cacheHeaders(answer: AnswerMeta, now: number): { 'cache-control': string; age: string; vary: string } {
  const age = Math.max(0, Math.floor((now - answer.storedAt) / 1000));
  const remaining = Math.max(0, answer.maxAge - age);
  const isPrivate = answer.scope === 'PRIVATE';
  return {
    'cache-control': `${isPrivate ? 'private' : 'public'}, max-age=${remaining}`,
    age: String(age),
    // A private answer is one user's: a browser shared by two accounts must not
    // give one the other's answer to the same GET.
    vary: isPrivate ? 'accept-encoding, authorization' : 'accept-encoding',
  };
}

import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import { HeaderMap, type ApolloServerPlugin, type GraphQLResponse } from '@apollo/server';
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { getOperationAST, type DocumentNode, type FormattedExecutionResult } from 'graphql';
import Negotiator from 'negotiator';
import { type CacheableOperation, type Lead, type OperationCache } from '../cache/operation-cache.js';
import type { AnswerMeta, CacheLookup } from '../cache/response-cache.js';
import type { Auth } from '../graphql/auth.js';
import type { Context } from '../graphql/context.js';
import type { Viewer } from '../graphql/viewer.js';
import type { RequestObservation } from '../observability/request-observation.js';

export interface ResponseCacheOptions {
  /** The response cache (cache/operation-cache.ts): analyses, keys, the store, identical misses run once. */
  cache: OperationCache;
  /** Reads the viewer of a request whose stored answer is PRIVATE, before Apollo Server has made a context. */
  auth: Auth;
  /**
   * Requests that run whatever is stored, their answers not stored (one
   * asking for extensions.sql), judged on the request's observation, the
   * same object before Apollo Server and in its context. Default: none.
   */
  bypass?: (observation: RequestObservation | null) => boolean;
  /**
   * Told of each answer served before Apollo Server (where no plugin sees
   * it): the operation's name (null when anonymous) and the viewer, when the
   * token was read (a PRIVATE answer's; undefined for a PUBLIC one). Default: nobody.
   */
  served?: (request: FastifyRequest, operationName: string | null, viewer: Viewer | null | undefined) => void;
}

export interface HttpResponseCache {
  /** The /graphql route's preHandler: stored answers of documents Apollo Server has validated here, served before it. */
  preHandler: preHandlerAsyncHookHandler;
  /** Everything else, inside Apollo Server: hits of other requests, identical operations run once, misses tagged and stored. */
  plugin: ApolloServerPlugin<Context>;
}

// Apollo Server's media types for a single result, in its order of preference.
const APPLICATION_JSON = 'application/json; charset=utf-8';
const GRAPHQL_RESPONSE_JSON = 'application/graphql-response+json; charset=utf-8';
const JSON_CALLBACK = 'application/json; callbackSpec=1.0; charset=utf-8';

/** The content type Apollo Server would answer with, or undefined when this request is better left to it. */
function contentTypeFor(accept: string | undefined): string | undefined {
  if (!accept) return APPLICATION_JSON;
  const preferred = new Negotiator({ headers: { accept } }).mediaType([APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, JSON_CALLBACK]);
  return preferred === APPLICATION_JSON || preferred === GRAPHQL_RESPONSE_JSON ? preferred : undefined;
}

/** Whether the client takes gzip (as browsers and mobile HTTP stacks do): then the stored bytes go out as they are. */
function acceptsGzip(acceptEncoding: string | undefined): boolean {
  return acceptEncoding !== undefined && new Negotiator({ headers: { 'accept-encoding': acceptEncoding } }).encoding(['gzip', 'identity']) === 'gzip';
}

const gunzip = promisify(gunzipCallback);

/** Remembers a few answers per header value: clients send few distinct ones, a flood of new ones only costs the negotiation. */
function memoized<Value>(decide: (header: string | undefined) => Value): (header: string | undefined) => Value {
  const decisions = new Map<string, Value>();
  return (header) => {
    const known = decisions.get(header ?? '');
    if (known !== undefined || decisions.has(header ?? '')) return known as Value;
    const decision = decide(header || undefined);
    if (decisions.size >= 100) decisions.clear();
    decisions.set(header ?? '', decision);
    return decision;
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The response cache over HTTP. Every response to a query says what
 * happened in `x-cache`: HIT, MISS, or BYPASS (a mutation, a document that
 * is never cached, a request refused before it could run). Cacheable
 * answers carry `cache-control` (`private` for PRIVATE answers) and `age`.
 *
 * A hit is served in one place (`hit` below, which counts it and makes its
 * headers), reached two ways:
 * - the route's preHandler, before Apollo Server: no context, no loaders,
 *   no parse of the answer, no serialization; the stored gzip bytes as they
 *   are to clients that accept gzip, unzipped (off the event loop) to
 *   others. Only for what Apollo Server would accept as it is: a POST of
 *   JSON (Fastify parsed it, so the CSRF check would pass) with a document
 *   Apollo Server already validated on this instance (the cache knows it
 *   only then), and variables for which an answer is stored (they passed
 *   the cost check when it was computed). Most hits are served here.
 * - the plugin, inside Apollo Server after validation and the cost check,
 *   for the rest: a GET, a document this instance meets for the first
 *   time, an answer stored since the route looked, and an identical
 *   operation running now (concurrent identical misses run once). A query
 *   that ran is tagged and stored when its answer has no errors.
 */
export function httpResponseCache({ cache, auth, bypass, served }: ResponseCacheOptions): HttpResponseCache {
  const contentTypeOf = memoized(contentTypeFor);
  const gzipFor = memoized(acceptsGzip);

  /** A hit, wherever it is served: counted, and the headers it goes out with. */
  const hit = (answer: AnswerMeta): Record<string, string> => {
    cache.counters.hits += 1;
    return { ...cache.headers(answer), 'x-cache': 'HIT' };
  };

  /** The key of an answer and what the store holds under it; undefined when the variables cannot be keyed. */
  const find = async (
    analysis: CacheableOperation,
    operationName: string | null | undefined,
    variables: unknown,
    viewer: Viewer | null,
  ): Promise<{ key: string; lookup: CacheLookup } | undefined> => {
    const key = cache.keyOf(analysis, operationName, variables, viewer);
    return key === undefined ? undefined : { key, lookup: await cache.lookup(key) };
  };

  const preHandler: preHandlerAsyncHookHandler = async (request, reply) => {
    const body = request.body;
    if (bypass?.(request.observation)) return;
    if (request.method !== 'POST' || !isRecord(body) || typeof body.query !== 'string' || body.extensions != null) return;
    const { query, operationName, variables } = body;
    if ((operationName != null && typeof operationName !== 'string') || (variables != null && !isRecord(variables))) return;
    const analysis = cache.known(query, operationName);
    if (!analysis?.cacheable) return;

    const contentType = contentTypeOf(request.headers.accept);
    if (!contentType) return;

    const viewer = analysis.policy.scope === 'PRIVATE' ? await auth.viewerFromHeader(request.headers.authorization) : undefined;
    const answer = (await find(analysis, operationName, variables, viewer ?? null))?.lookup.answer;
    if (!answer) return;
    reply.headers({ ...hit(answer), 'content-type': contentType });
    served?.(request, getOperationAST(analysis.executable, operationName)?.name?.value ?? null, viewer);
    if (gzipFor(request.headers['accept-encoding'])) return reply.header('content-encoding', 'gzip').send(answer.gzipped);
    return reply.send(await gunzip(answer.gzipped));
  };

  const plugin: ApolloServerPlugin<Context> = {
    async requestDidStart() {
      let status: 'HIT' | 'MISS' | 'BYPASS' = 'BYPASS';
      let lead: Lead | undefined;

      const respond = (result: FormattedExecutionResult, answer: AnswerMeta): GraphQLResponse => {
        status = 'HIT';
        return { http: { status: undefined, headers: new HeaderMap(Object.entries(hit(answer))) }, body: { kind: 'single', singleResult: result } };
      };

      return {
        async responseForOperation(requestContext) {
          const { contextValue, request } = requestContext;
          if (bypass?.(contextValue.observation)) return null;
          const analysis = cache.analyze(requestContext.source, requestContext.document, request.operationName);
          if (!analysis.cacheable) return null;
          const found = await find(analysis, request.operationName, request.variables, contextValue.viewer);
          if (!found) return null;
          const { key, lookup } = found;
          if (lookup.answer) return respond(JSON.parse((await gunzip(lookup.answer.gzipped)).toString('utf8')) as FormattedExecutionResult, lookup.answer);
          const running = cache.join(key, lookup.since);
          const shared = running && (await running);
          if (shared) return respond(shared.result, shared.answer);

          status = 'MISS';
          cache.counters.misses += 1;
          lead = cache.lead(key, analysis, lookup.since, requestContext.contextValue.viewer);
          // Apollo Server runs the document of the request context: this one
          // carries the ids the tags are read from (removed again before the
          // answer is sent, in willSendResponse).
          (requestContext as { document: DocumentNode }).document = analysis.executable;
          return null;
        },

        async willSendResponse(requestContext) {
          const headers = requestContext.response.http.headers;
          headers.set('x-cache', status);
          if (!lead) return;
          const body = requestContext.response.body;
          // Read on a replica behind the last write (db/read-routing.ts): served, neither stored nor shared.
          const storable = requestContext.contextValue.db.routing?.storable ?? true;
          const answer = lead.finish(body.kind === 'single' ? body.singleResult : undefined, { storable });
          if (answer) for (const [name, value] of Object.entries(cache.headers(answer))) headers.set(name, value);
        },
      };
    },
  };

  return { preHandler, plugin };
}

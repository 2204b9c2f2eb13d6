import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { getOperationAST } from 'graphql';
import Negotiator from 'negotiator';
import { cacheHeaders, type OperationCache } from '../cache/operation-cache.js';
import type { Auth } from '../graphql/auth.js';
import type { Viewer } from '../graphql/viewer.js';

export interface CachedAnswersOptions {
  cache: OperationCache;
  auth: Auth;
  /** Requests to leave to Apollo Server whatever is stored (one asking for extensions.sql). Default: none. */
  skip?: (request: FastifyRequest) => boolean;
  /**
   * Told of each answer served: the operation's name (null when anonymous)
   * and the viewer, when the token was read (a PRIVATE answer's; undefined for a PUBLIC one).
   */
  served?: (request: FastifyRequest, operationName: string | null, viewer: Viewer | null | undefined) => void;
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
 * Serves stored answers before Apollo Server: no context, no loaders, no
 * parse of the answer, no serialization; the stored gzip bytes as they are
 * to clients that accept gzip, unzipped (off the event loop) to others. Only for what Apollo Server would accept as it is: a POST of
 * JSON (Fastify parsed it, so the CSRF check would pass) with a document
 * Apollo Server already validated on this instance (the cache knows it only
 * then), and variables for which an answer is stored (they passed the cost
 * check when it was computed). Anything else, and every miss, goes on to
 * Apollo Server, whose response-cache plugin looks again and runs the
 * operation.
 */
export function cachedAnswersHook({ cache, auth, skip, served }: CachedAnswersOptions): preHandlerAsyncHookHandler {
  const contentTypeOf = memoized(contentTypeFor);
  const gzipFor = memoized(acceptsGzip);
  return async (request, reply) => {
    const body = request.body;
    if (skip?.(request)) return;
    if (request.method !== 'POST' || !isRecord(body) || typeof body.query !== 'string' || body.extensions != null) return;
    const { query, operationName, variables } = body;
    if ((operationName != null && typeof operationName !== 'string') || (variables != null && !isRecord(variables))) return;
    const analysis = cache.known(query, operationName);
    if (!analysis?.cacheable) return;

    const contentType = contentTypeOf(request.headers.accept);
    if (!contentType) return;

    const viewer = analysis.policy.scope === 'PRIVATE' ? await auth.viewerFromHeader(request.headers.authorization) : undefined;
    const key = cache.keyOf(analysis, operationName, variables, viewer ?? null);
    if (key === undefined) return;
    const { answer } = await cache.lookup(key);
    if (!answer) return;
    cache.counters.hits += 1;
    served?.(request, getOperationAST(analysis.executable, operationName)?.name?.value ?? null, viewer);
    reply.headers({ ...cacheHeaders(answer), 'x-cache': 'HIT', 'content-type': contentType });
    if (gzipFor(request.headers['accept-encoding'])) return reply.header('content-encoding', 'gzip').send(answer.gzipped);
    return reply.send(await gunzip(answer.gzipped));
  };
}

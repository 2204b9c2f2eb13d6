import type { preHandlerAsyncHookHandler } from 'fastify';
import Negotiator from 'negotiator';
import { cacheHeaders, type OperationCache } from '../cache/operation-cache.js';
import type { Auth } from '../graphql/auth.js';

export interface CachedAnswersOptions {
  cache: OperationCache;
  auth: Auth;
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

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Serves stored answers before Apollo Server, as the bytes they were
 * stored as: no context, no loaders, no parse of the answer, no
 * serialization. Only for what Apollo Server would accept as it is: a POST of
 * JSON (Fastify parsed it, so the CSRF check would pass) with a document
 * Apollo Server already validated on this instance (the cache knows it only
 * then), and variables for which an answer is stored (they passed the cost
 * check when it was computed). Anything else, and every miss, goes on to
 * Apollo Server, whose response-cache plugin looks again and runs the
 * operation.
 */
export function cachedAnswersHook({ cache, auth }: CachedAnswersOptions): preHandlerAsyncHookHandler {
  const contentTypes = new Map<string, string | undefined>();
  return async (request, reply) => {
    const body = request.body;
    if (request.method !== 'POST' || !isRecord(body) || typeof body.query !== 'string' || body.extensions != null) return;
    const { query, operationName, variables } = body;
    if ((operationName != null && typeof operationName !== 'string') || (variables != null && !isRecord(variables))) return;
    const analysis = cache.known(query, operationName);
    if (!analysis?.cacheable) return;

    const accept = request.headers.accept ?? '';
    let contentType = contentTypes.get(accept);
    if (!contentTypes.has(accept)) {
      contentType = contentTypeFor(accept || undefined);
      // Clients send few distinct Accept headers; a flood of new ones only costs the negotiation.
      if (contentTypes.size >= 100) contentTypes.clear();
      contentTypes.set(accept, contentType);
    }
    if (!contentType) return;

    const viewer = analysis.policy.scope === 'PRIVATE' ? await auth.viewerFromHeader(request.headers.authorization) : null;
    const { answer } = await cache.lookup(cache.keyOf(analysis, operationName, variables, viewer));
    if (!answer) return;
    cache.counters.hits += 1;
    return reply
      .headers({ ...cacheHeaders(answer), 'x-cache': 'HIT', 'content-type': contentType })
      .send(answer.body);
  };
}

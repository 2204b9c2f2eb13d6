import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import { HeaderMap, type ApolloServerPlugin, type GraphQLResponse } from '@apollo/server';
import type { DocumentNode, FormattedExecutionResult } from 'graphql';
import { cacheHeaders, type Lead, type OperationCache } from '../../cache/operation-cache.js';
import type { AnswerMeta } from '../../cache/response-cache.js';
import type { Context } from '../../graphql/context.js';

const gunzip = promisify(gunzipCallback);

export interface ResponseCachePluginOptions {
  /** The response cache (cache/operation-cache.ts), shared with the route that serves hits before Apollo Server. */
  cache: OperationCache;
  /** Operations to run whatever is stored, their answers not stored (one asking for extensions.sql). Default: none. */
  bypass?: (context: Context) => boolean;
}

/**
 * The response cache inside Apollo Server, after validation and the cost
 * check: a stored answer is served without running anything; concurrent
 * identical misses run once; a query that ran is tagged and stored when its
 * answer has no errors. Every response says what happened in `x-cache`:
 * HIT, MISS, or BYPASS (a mutation, a document that is never cached, a
 * request refused before it could run). Cacheable answers carry
 * `cache-control` (`private` for PRIVATE answers) and `age`.
 *
 * Most hits never get here: the /graphql route serves them first (see
 * http/cached-answers.ts), for documents this plugin has seen.
 */
export function responseCachePlugin({ cache, bypass }: ResponseCachePluginOptions): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      let status: 'HIT' | 'MISS' | 'BYPASS' = 'BYPASS';
      let lead: Lead | undefined;

      const served = (result: FormattedExecutionResult, answer: AnswerMeta): GraphQLResponse => {
        status = 'HIT';
        cache.counters.hits += 1;
        return { http: { status: undefined, headers: new HeaderMap(Object.entries(cacheHeaders(answer))) }, body: { kind: 'single', singleResult: result } };
      };

      return {
        async responseForOperation(requestContext) {
          if (bypass?.(requestContext.contextValue)) return null;
          const analysis = cache.analyze(requestContext.source, requestContext.document, requestContext.request.operationName);
          if (!analysis.cacheable) return null;
          const key = cache.keyOf(analysis, requestContext.request.operationName, requestContext.request.variables, requestContext.contextValue.viewer);
          if (key === undefined) return null;
          const lookup = await cache.lookup(key);
          // Rare: the route serves hits of documents it knows before they get here.
          if (lookup.answer) return served(JSON.parse((await gunzip(lookup.answer.gzipped)).toString('utf8')) as FormattedExecutionResult, lookup.answer);
          const running = cache.join(key, lookup.since);
          const shared = running && (await running);
          if (shared) return served(shared.result, shared.answer);

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
          const answer = lead.finish(body.kind === 'single' ? body.singleResult : undefined);
          if (answer) for (const [name, value] of Object.entries(cacheHeaders(answer))) headers.set(name, value);
        },
      };
    },
  };
}

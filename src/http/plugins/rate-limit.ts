import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { OperationTypeNode } from 'graphql';
import type { Context } from '../../graphql/context.js';
import { ErrorCode } from '../../graphql/errors.js';
import type { RateLimitStatus } from '../../graphql/operation-budget.js';
import type { RateLimiter, RateLimitVerdict, WritesStatus } from '../../rate-limit/limiter.js';

export interface RateLimitPluginOptions {
  /** The buckets (rate-limit/limiter.ts): in Redis or in this process. */
  limiter: RateLimiter;
}

/**
 * Spends each operation's cost (queryCostPlugin's estimate, read from the
 * context) from its caller's points bucket, and each mutation from the
 * caller's writes bucket, once every other check has passed and before
 * anything runs. The caller is the viewer, or the network address when
 * signed out, so one user's flood never limits another.
 *
 * Over a limit: HTTP 429, RATE_LIMITED, `retry-after` in seconds, nothing
 * executed and nothing taken. A cost above the capacity never fits: no
 * `retry-after` then, and `retryAfterSeconds: null`, so a client that
 * honours it does not retry forever. Every metered answer says what is left:
 * `x-ratelimit-limit` (the bucket's capacity), `x-ratelimit-remaining`,
 * `x-ratelimit-reset` (Unix seconds when the bucket is full again) and
 * `x-ratelimit-cost`; a mutation's also `x-ratelimit-writes-*`;
 * `Query.rateLimit` reads the same from the context.
 */
export function rateLimitPlugin({ limiter }: RateLimitPluginOptions): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      let verdict: RateLimitVerdict | undefined;
      return {
        // Runs after every didResolveOperation hook succeeded (they run side by side,
        // so one of them could not know whether another refused): refused operations spend nothing.
        async responseForOperation({ operation, contextValue }) {
          // No operation (none named so): execution refuses it with its code, and nothing runs.
          if (!operation) return null;
          const key = contextValue.viewer ? `user:${contextValue.viewer.id}` : `address:${contextValue.clientAddress}`;
          verdict = await limiter.spend(key, contextValue.budget.cost?.requested ?? 1, operation.operation === OperationTypeNode.MUTATION);
          if (verdict.kind === 'unmetered') return null;
          if (verdict.kind === 'allowed') {
            contextValue.budget.rateLimit = verdict.status;
            return null;
          }
          contextValue.logger.debug({ code: ErrorCode.RateLimited, bucket: verdict.bucket }, 'rate limited');
          const { cost, remaining, limit } = verdict.status;
          const { retryAfterSeconds } = verdict;
          const message =
            verdict.bucket === 'writes'
              ? `Too many writes: at most ${verdict.writes?.limit} at once, refilled in full over ${limiter.options.windowSeconds} s. Retry in ${retryAfterSeconds} s.`
              : retryAfterSeconds === null
                ? // No wait makes it fit: the bucket never holds more than its capacity.
                  `Rate limit exceeded: this operation costs ${cost}, more than the ${limit} points the budget holds when full. Ask for less.`
                : `Rate limit exceeded: this operation costs ${cost} and ${remaining} of ${limit} points are left. Retry in ${retryAfterSeconds} s, or ask for less.`;
          return {
            http: { status: 429, headers: new HeaderMap(retryAfterSeconds === null ? [] : [['retry-after', String(retryAfterSeconds)]]) },
            body: {
              kind: 'single',
              singleResult: {
                data: null,
                errors: [{ message, extensions: { code: ErrorCode.RateLimited, bucket: verdict.bucket, retryAfterSeconds } }],
              },
            },
          };
        },
        async willSendResponse({ response }) {
          if (!verdict || verdict.kind === 'unmetered') return;
          setHeaders(response.http.headers, 'x-ratelimit', verdict.status);
          response.http.headers.set('x-ratelimit-cost', String(verdict.status.cost));
          if (verdict.writes) setHeaders(response.http.headers, 'x-ratelimit-writes', verdict.writes);
        },
      };
    },
  };
}

function setHeaders(headers: HeaderMap, prefix: string, status: RateLimitStatus | WritesStatus) {
  headers.set(`${prefix}-limit`, String(status.limit));
  headers.set(`${prefix}-remaining`, String(status.remaining));
  headers.set(`${prefix}-reset`, String(Math.ceil(status.resetAt.getTime() / 1000)));
}

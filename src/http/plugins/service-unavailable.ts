import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import type { FormattedExecutionResult } from 'graphql';
import { describeDatabaseError, isDatabaseUnavailable } from '../../db/unavailable.js';
import type { Context } from '../../graphql/context.js';
import { ErrorCode } from '../../graphql/errors.js';

export interface ServiceUnavailablePluginOptions {
  /** Sent as `retry-after` with a 503. Default: 2 (a restart, a failover or a full pool is usually over within seconds). */
  retryAfterSeconds?: number;
}

/**
 * Says outages as outages. An operation that an outage left without an
 * answer (no data, or a top-level field null because of
 * SERVICE_UNAVAILABLE) is answered HTTP 503 with `retry-after` and
 * `data: null`: a null `viewer`, `user` or `conversation` means "signed out"
 * or "none", and must never stand for a database that failed. Deeper fields
 * an outage failed come back null beside the data that was read, with the
 * error at their path, and HTTP 200. Each request that met an outage is
 * logged once, at warn, without a stack: an incident is not a flood of bugs.
 */
export function serviceUnavailablePlugin(options: ServiceUnavailablePluginOptions = {}): ApolloServerPlugin<Context> {
  const retryAfter = String(options.retryAfterSeconds ?? 2);
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue, operationName }) {
          const outages = errors.filter((error) => isDatabaseUnavailable(error));
          if (outages.length === 0) return;
          contextValue.logger.warn(
            {
              code: ErrorCode.ServiceUnavailable,
              operationName,
              fields: outages.map((error) => error.path?.join('.')).filter(Boolean),
              reason: describeDatabaseError(unwrapResolverError(outages[0])),
            },
            'the database could not answer: SERVICE_UNAVAILABLE',
          );
        },
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single' || !leftWithoutAnswer(response.body.singleResult)) return;
          response.body.singleResult.data = null;
          response.http.status = 503;
          response.http.headers.set('retry-after', retryAfter);
        },
      };
    },
  };
}

/** Whether an outage failed the whole operation: no data, or a top-level field nulled by SERVICE_UNAVAILABLE. */
function leftWithoutAnswer(result: FormattedExecutionResult): boolean {
  const outages = (result.errors ?? []).filter((error) => error.extensions?.code === ErrorCode.ServiceUnavailable);
  if (outages.length === 0) return false;
  const data = result.data;
  if (!data) return true;
  return outages.some((error) => {
    const field = error.path?.[0];
    return typeof field === 'string' && data[field] === null;
  });
}

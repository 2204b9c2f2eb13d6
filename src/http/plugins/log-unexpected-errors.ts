import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { isDatabaseUnavailable } from '../../db/unavailable.js';
import type { Context } from '../../graphql/context.js';
import { isExpectedError } from '../../graphql/errors.js';

/**
 * Logs every error the client will only see as INTERNAL_SERVER_ERROR (an
 * outage is serviceUnavailablePlugin's to log, at warn), with
 * the request's logger (so the line carries the request id the client got
 * in x-request-id), the field's path and the operation's name.
 */
export function logUnexpectedErrorsPlugin(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue, operationName }) {
          for (const error of errors) {
            if (isExpectedError(error) || isDatabaseUnavailable(error)) continue;
            contextValue.logger.error(
              { err: unwrapResolverError(error), path: error.path?.join('.'), operationName },
              'unexpected error in a GraphQL operation',
            );
          }
        },
      };
    },
  };
}

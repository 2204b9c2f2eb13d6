import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { isDatabaseUnavailable } from '../../db/unavailable.js';
import type { Context } from '../../graphql/context.js';
import { isExpectedError } from '../../graphql/errors.js';

/**
 * Logs every error the client will only see as INTERNAL_SERVER_ERROR at
 * error level (an outage is serviceUnavailablePlugin's to log, at warn),
 * with the request's logger (so the line carries the request id the client
 * got in x-request-id), the field's path and the operation's name. A
 * client's mistakes (every coded error) are logged at debug only: anyone can
 * send them, so at error level they would page whoever watches the log.
 */
export function logUnexpectedErrorsPlugin(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue, operationName }) {
          for (const error of errors) {
            if (isDatabaseUnavailable(error)) continue;
            if (isExpectedError(error)) {
              contextValue.logger.debug(
                { code: error.extensions?.code, message: error.message, path: error.path?.join('.'), operationName },
                'client error in a GraphQL operation',
              );
              continue;
            }
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

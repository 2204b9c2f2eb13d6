import type { ApolloServerPlugin } from '@apollo/server';
import { OperationTypeNode } from 'graphql';
import type { Context } from '../../graphql/context.js';
import { OperationNotSupportedError } from '../../graphql/errors.js';

/**
 * Refuses subscription operations with OPERATION_NOT_SUPPORTED (HTTP 400)
 * before anything runs. The schema has no Subscription type yet, and
 * graphql-js 16 validates `subscription { … }` against a schema without one
 * (the spec's rule came in graphql-js 17), then fails in execution with an
 * uncoded error that would be masked as INTERNAL_SERVER_ERROR. When
 * subscriptions come they will be served over their own transport.
 */
export function refuseSubscriptionsPlugin(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation === OperationTypeNode.SUBSCRIPTION) {
            throw new OperationNotSupportedError('Subscriptions are not served by this server yet: send queries and mutations.');
          }
        },
      };
    },
  };
}

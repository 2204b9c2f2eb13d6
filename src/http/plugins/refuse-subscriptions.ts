import type { ApolloServerPlugin } from '@apollo/server';
import { OperationTypeNode } from 'graphql';
import type { Context } from '../../graphql/context.js';
import { OperationNotSupportedError } from '../../graphql/errors.js';

/**
 * Refuses subscription operations that reach Apollo with
 * OPERATION_NOT_SUPPORTED (HTTP 400) before anything runs, saying how to
 * subscribe: Apollo Server answers one result per request, so a
 * subscription is served by the transports of subscriptions.ts (a
 * WebSocket at /graphql, or a POST that accepts multipart/mixed;
 * subscriptionSpec=1.0), never here. Without this, graphql-js would fail
 * it in execution with an uncoded error, masked as INTERNAL_SERVER_ERROR.
 */
export function refuseSubscriptionsPlugin(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation === OperationTypeNode.SUBSCRIPTION) {
            throw new OperationNotSupportedError(
              'Subscribe over a WebSocket at /graphql (graphql-transport-ws), or POST with Accept: multipart/mixed;subscriptionSpec=1.0.',
            );
          }
        },
      };
    },
  };
}

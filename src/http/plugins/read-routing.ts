import type { ApolloServerPlugin } from '@apollo/server';
import { OperationTypeNode } from 'graphql';
import type { Context } from '../../graphql/context.js';

/**
 * The response header carrying where a write ended in the primary's WAL
 * (`16/B374D848`), and the request header a client sends it back in: its
 * reads, on any instance, are then served by a replica only once that
 * replica has replayed the write (docs/scale-out.md#read-replicas).
 */
export const LSN_HEADER = 'x-parley-lsn';

/** The response header that tells, outside production, where a request's reads went: `replica <name>` or `primary (<reason>)`. */
export const READ_FROM_HEADER = 'x-parley-read-from';

export interface ReadRoutingPluginOptions {
  /** Adds x-parley-read-from to each answer that read from the database. Default: false (production). */
  tellWhere?: boolean;
}

/**
 * Read replicas over HTTP (db/read-routing.ts does the routing): a mutation's
 * reads go to the primary from the start (its payload must show its write);
 * an answer to a write carries x-parley-lsn. Does nothing without replicas.
 */
export function readRoutingPlugin({ tellWhere = false }: ReadRoutingPluginOptions = {}): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ contextValue }) {
      const routing = contextValue.db.routing;
      if (!routing) return;
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation === OperationTypeNode.MUTATION) routing.primaryOnly();
        },
        async willSendResponse({ response }) {
          if (routing.writePosition) response.http.headers.set(LSN_HEADER, routing.writePosition);
          if (tellWhere && routing.servedBy) response.http.headers.set(READ_FROM_HEADER, routing.servedBy);
        },
      };
    },
  };
}

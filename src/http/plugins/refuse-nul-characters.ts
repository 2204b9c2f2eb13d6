import type { ApolloServerPlugin } from '@apollo/server';
import type { Context } from '../../graphql/context.js';
import { refuseNulCharacters } from '../../graphql/nul-characters.js';

/**
 * Refuses, before any resolver runs, an operation whose strings hold U+0000,
 * which PostgreSQL text cannot store (see graphql/nul-characters.ts):
 * BAD_USER_INPUT with HTTP 400, naming the variable when it is one.
 */
export function refuseNulCharactersPlugin(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request }) {
          if (operation) refuseNulCharacters(document, operation, request.variables);
        },
      };
    },
  };
}

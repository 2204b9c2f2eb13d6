import type { Resolvers } from '../../generated/graphql/resolvers.js';

export const rateLimitResolvers: Resolvers = {
  Query: {
    // Filled in by the rate-limit plugin before execution: no store is asked twice.
    rateLimit: (_parent, _args, { budget }) => budget.rateLimit ?? null,
  },
};

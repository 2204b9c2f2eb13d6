import type { Resolvers } from '../generated/graphql/resolvers.js';
import { conversationResolvers } from './conversations/resolvers.js';
import { leaderboardResolvers } from './leaderboards/resolvers.js';
import { messageResolvers } from './messages/resolvers.js';
import { rateLimitResolvers } from './rate-limit/resolvers.js';
import { searchResolvers } from './search/resolvers.js';
import { nodeResolvers } from './relay/node-resolvers.js';
import { userResolvers } from './users/resolvers.js';

/** Every domain's resolvers; makeExecutableSchema merges them type by type. */
export const resolvers: Resolvers[] = [
  nodeResolvers,
  userResolvers,
  conversationResolvers,
  messageResolvers,
  leaderboardResolvers,
  rateLimitResolvers,
  searchResolvers,
];

import type { Resolvers } from '../generated/graphql/resolvers.js';
import { conversationNodes, conversationResolvers } from './conversations/resolvers.js';
import { leaderboardResolvers } from './leaderboards/resolvers.js';
import { messageNodes, messageResolvers } from './messages/resolvers.js';
import { rateLimitResolvers } from './rate-limit/resolvers.js';
import { nodeResolvers } from './node/resolvers.js';
import { userNodes, userResolvers } from './users/resolvers.js';

/**
 * Every domain's resolvers; makeExecutableSchema merges them type by type.
 * A domain owns the fields it resolves, whatever type they sit on: the
 * domain whose loaders and SQL answer a field declares it (conversations/
 * declares User.conversations, messages/ declares Conversation.messages),
 * so no domain's resolvers call into another's (lint checks the imports).
 */
export const resolvers: Resolvers[] = [
  nodeResolvers({ ...userNodes, ...conversationNodes, ...messageNodes }),
  userResolvers,
  conversationResolvers,
  messageResolvers,
  leaderboardResolvers,
  rateLimitResolvers,
];

import type { ListTags } from '../cache/entity-tags.js';
import type { Resolvers } from '../generated/graphql/resolvers.js';
import { conversationListTags, conversationNodes, conversationResolvers } from './conversations/resolvers.js';
import { leaderboardListTags, leaderboardResolvers } from './leaderboards/resolvers.js';
import { messageListTags, messageNodes, messageResolvers } from './messages/resolvers.js';
import { rateLimitResolvers } from './rate-limit/resolvers.js';
import { searchListTags, searchResolvers } from './search/resolvers.js';
import { nodeResolvers } from './node/resolvers.js';
import { userListTags, userNodes, userResolvers } from './users/resolvers.js';

/**
 * Each domain: its resolvers, and the list tags of the fields among them.
 * A domain owns the fields it resolves, whatever type they sit on: the
 * domain whose loaders and SQL answer a field declares it (conversations/
 * declares User.conversations, messages/ declares Conversation.messages),
 * and its list tag with it, so no domain's resolvers call into another's
 * (lint checks the imports).
 */
export const domains: readonly { name: string; resolvers: Resolvers; listTags: ListTags }[] = [
  { name: 'users', resolvers: userResolvers, listTags: userListTags },
  { name: 'conversations', resolvers: conversationResolvers, listTags: conversationListTags },
  { name: 'messages', resolvers: messageResolvers, listTags: messageListTags },
  { name: 'leaderboards', resolvers: leaderboardResolvers, listTags: leaderboardListTags },
  { name: 'rate-limit', resolvers: rateLimitResolvers, listTags: {} },
  { name: 'search', resolvers: searchResolvers, listTags: searchListTags },
];

/** Every domain's resolvers; makeExecutableSchema merges them type by type. */
export const resolvers: Resolvers[] = [nodeResolvers({ ...userNodes, ...conversationNodes, ...messageNodes }), ...domains.map((domain) => domain.resolvers)];

/** Every domain's list tags, for the response cache (createApp hands them over). */
export const listTags: ListTags = Object.fromEntries(domains.flatMap((domain) => Object.entries(domain.listTags)));

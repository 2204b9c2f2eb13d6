import type { ListTags } from '../cache/entity-tags.js';
import type { Resolvers } from '../generated/graphql/resolvers.js';
import { conversationListTags, conversationNodes, conversationResolvers } from './conversations/resolvers.js';
import { leaderboardListTags, leaderboardResolvers } from './leaderboards/resolvers.js';
import { messageListTags, messageNodes, messageResolvers } from './messages/resolvers.js';
import { rateLimitResolvers } from './rate-limit/resolvers.js';
import { searchListTags, searchResolvers } from './search/resolvers.js';
import { nodeResolvers } from './node/resolvers.js';
import { userListTags, userNodes, userResolvers } from './users/resolvers.js';
import type { SqlFields, SqlTags } from '../graphql/sql-reads/compile.js';
import { userSqlFields, userSqlTags } from './users/sql-reads.js';
import { conversationSqlFields } from './conversations/sql-reads.js';
import { messageSqlFields } from './messages/sql-reads.js';

/**
 * Each domain: its resolvers, and the list tags of the fields among them.
 * A domain owns the fields it resolves, whatever type they sit on: the
 * domain whose loaders and SQL answer a field declares it (conversations/
 * declares User.conversations, messages/ declares Conversation.messages),
 * and its list tag with it, so no domain's resolvers call into another's
 * (lint checks the imports). The same for the fields a domain writes as SQL
 * in compiled reads (graphql/sql-reads/).
 */
export const domains: readonly { name: string; resolvers: Resolvers; listTags: ListTags; sqlFields?: SqlFields }[] = [
  { name: 'users', resolvers: userResolvers, listTags: userListTags, sqlFields: userSqlFields },
  { name: 'conversations', resolvers: conversationResolvers, listTags: conversationListTags, sqlFields: conversationSqlFields },
  { name: 'messages', resolvers: messageResolvers, listTags: messageListTags, sqlFields: messageSqlFields },
  { name: 'leaderboards', resolvers: leaderboardResolvers, listTags: leaderboardListTags },
  { name: 'rate-limit', resolvers: rateLimitResolvers, listTags: {} },
  { name: 'search', resolvers: searchResolvers, listTags: searchListTags },
];

/** Every domain's resolvers; makeExecutableSchema merges them type by type. */
export const resolvers: Resolvers[] = [nodeResolvers({ ...userNodes, ...conversationNodes, ...messageNodes }), ...domains.map((domain) => domain.resolvers)];

/** Every domain's list tags, for the response cache (createApp hands them over). */
export const listTags: ListTags = Object.fromEntries(domains.flatMap((domain) => Object.entries(domain.listTags)));

/** Every domain's compiled-read fields, merged type by type. */
export const sqlFields: SqlFields = domains.reduce<Record<string, SqlFields[string]>>((merged, domain) => {
  for (const [type, fields] of Object.entries(domain.sqlFields ?? {})) merged[type] = { ...merged[type], ...fields };
  return merged;
}, {});

/** The tags of the objects inside a compiled read's parts (the users domain's: a user, the statistics). */
export const sqlTags: SqlTags = userSqlTags;

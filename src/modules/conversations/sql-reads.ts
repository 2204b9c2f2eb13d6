// The conversations domain's fields in compiled reads (graphql/sql-reads/):
// each written as its resolver and statement answer it (resolvers.ts, sql.ts).
import type { SqlFields } from '../../graphql/sql-reads/compile.js';
import { connectionSql, globalIdSql, intSql, isoSql, listSql, stringSql } from '../../graphql/sql-reads/values.js';
import { parsePageArguments } from '../../graphql/relay/page-arguments.js';
import { idOfType } from '../../graphql/relay/global-id.js';
import { tags } from '../../writes/tags.js';
import { unreadMessagesOn } from './sql.js';

/** Where a conversation sits in an inbox (keyset.ts's conversationKeyset): its last activity, the id breaking ties. */
const activityAt = (c: string) => `coalesce(${c}.last_message_at, ${c}.created_at)`;

export const conversationSqlFields: SqlFields = {
  Query: {
    // The viewer's conversation by id (findVisibleConversations). One they do
    // not take part in, or none, is NOT_FOUND: the resolvers answer that.
    conversation: (_row, field, scope) => {
      const id = idOfType(field.args.id as string, 'Conversation', 'id');
      const c = scope.alias('conversation');
      return scope.orFallback(`SELECT ${scope.object('Conversation', field, c)} FROM conversations ${c}
          JOIN conversation_participants ${c}_viewer ON ${c}_viewer.conversation_id = ${c}.id AND ${c}_viewer.user_id = ${scope.viewerId}
          WHERE ${c}.id = ${scope.param(id, 'int')}`);
    },
  },
  User: {
    // The inbox (findInboxPages): compiled for the viewer's own only; anyone
    // else's is FORBIDDEN, which the resolvers answer.
    conversations: (u, field, scope, facts) => {
      if (!facts.viewerRow) return undefined;
      const page = parsePageArguments(field.args);
      const viewer = scope.viewerId;
      return connectionSql(field, scope, {
        page,
        typePrefix: 'Conversation',
        rows: (order, after, limit) => {
          const p = scope.alias('participant');
          const c = scope.alias('conversation');
          return `SELECT ${c}.*, ${activityAt(c)} AS sort_at FROM (
              SELECT ${p}.conversation_id FROM conversation_participants ${p}
              WHERE ${p}.user_id = ${u}.id AND ${after(`${p}.last_activity_at`, `${p}.conversation_id`)}
              ORDER BY ${p}.last_activity_at ${order}, ${p}.conversation_id ${order} LIMIT ${limit}
            ) ${p} JOIN conversations ${c} ON ${c}.id = ${p}.conversation_id`;
        },
        sortAt: (row) => `${row}.sort_at`,
        sortId: (row) => `${row}.id`,
        // Each conversation apart: kept across requests, read again only after a write to it.
        node: (nodeField, row) =>
          scope.objectApart('Conversation', nodeField, row, {
            table: 'conversations',
            idColumn: 'id',
            id: (r) => `${r}.id`,
            // Its row and participants, the viewer's unread count in it; its messages.
            tags: (id) => [tags.conversation(Number(id)), tags.messages(Number(id))],
          }),
        totalCount: `SELECT count(*) FROM conversation_participants WHERE user_id = ${viewer}`,
      });
    },
  },
  Conversation: {
    id: (c) => globalIdSql('Conversation', `${c}.id`),
    title: (c) => stringSql(`${c}.title`),
    // The database's values are lowercase.
    kind: (c) => stringSql(`upper(${c}.kind::text)`),
    createdAt: (c) => isoSql(`${c}.created_at`),
    lastMessageAt: (c) => isoSql(`${c}.last_message_at`),
    // In the order they joined (findParticipantUsers).
    participants: (c, field, scope) => {
      const p = scope.alias('participant');
      const u = scope.alias('user');
      return listSql(
        scope.object('User', field, u),
        `${p}.joined_at, ${u}.id`,
        `FROM conversation_participants ${p} JOIN users ${u} ON ${u}.id = ${p}.user_id WHERE ${p}.conversation_id = ${c}.id`,
      );
    },
    // Messages by others after the viewer's last read (countUnread).
    unreadCount: (c, _field, scope) => {
      const p = scope.alias('participant');
      const m = scope.alias('message');
      return intSql(`SELECT count(${m}.conversation_id) FROM conversation_participants ${p}
        LEFT JOIN messages ${m} ON ${unreadMessagesOn(p, m)}
        WHERE ${p}.user_id = ${scope.viewerId} AND ${p}.conversation_id = ${c}.id`);
    },
  },
};

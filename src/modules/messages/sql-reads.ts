// The messages domain's fields in compiled reads (graphql/sql-reads/): each
// written as its resolver and statement answer it (resolvers.ts, sql.ts).
import type { SqlFields, SqlScope } from '../../graphql/sql-reads/compile.js';
import { connectionSql, cursorSql, globalIdSql, isoSql, listSql, nullableSql, stringSql } from '../../graphql/sql-reads/values.js';
import { parsePageArguments } from '../../graphql/relay/page-arguments.js';

/** The columns of a message its fields read (not the search vector). */
const columns = (m: string) => `${m}.id, ${m}.conversation_id, ${m}.author_id, ${m}.body, ${m}.created_at, ${m}.edited_at`;

/** A conversation's newest messages, at most `limit`, read along messages (conversation_id, created_at DESC, id DESC). */
function newestMessages(scope: SqlScope, c: string, limit: number | string): { rows: string; m: string } {
  const m = scope.alias('message');
  return { m, rows: `SELECT ${columns(m)} FROM messages ${m} WHERE ${m}.conversation_id = ${c}.id ORDER BY ${m}.created_at DESC, ${m}.id DESC LIMIT ${limit}` };
}

export const messageSqlFields: SqlFields = {
  Conversation: {
    // The newest message (findLastMessages); null while there is none.
    lastMessage: (c, field, scope) => {
      const { rows, m } = newestMessages(scope, c, 1);
      return nullableSql(`SELECT ${scope.object('Message', field, m)} FROM (${rows}) ${m}`);
    },
    // The first page of the history, its rows only.
    recentMessages: (c, field, scope) => {
      const { size } = parsePageArguments({ first: field.args.first as number | null | undefined });
      const { rows, m } = newestMessages(scope, c, size);
      return listSql(scope.object('Message', field, m), `${m}.created_at DESC, ${m}.id DESC`, `FROM (${rows}) ${m}`);
    },
    // The history (findHistoryPages).
    messages: (c, field, scope) => {
      const total = scope.alias('message');
      return connectionSql(field, scope, {
        page: parsePageArguments(field.args),
        typePrefix: 'Message',
        rows: (order, after, limit) => {
          const m = scope.alias('message');
          return `SELECT ${columns(m)} FROM messages ${m}
            WHERE ${m}.conversation_id = ${c}.id AND ${after(`${m}.created_at`, `${m}.id`)}
            ORDER BY ${m}.created_at ${order}, ${m}.id ${order} LIMIT ${limit}`;
        },
        sortAt: (row) => `${row}.created_at`,
        sortId: (row) => `${row}.id`,
        node: (nodeField, row) => scope.object('Message', nodeField, row),
        totalCount: `SELECT count(*) FROM messages ${total} WHERE ${total}.conversation_id = ${c}.id`,
      });
    },
  },
  Message: {
    id: (m) => globalIdSql('Message', `${m}.id`),
    body: (m) => stringSql(`${m}.body`),
    createdAt: (m) => isoSql(`${m}.created_at`),
    editedAt: (m) => isoSql(`${m}.edited_at`),
    cursor: (m) => cursorSql(`${m}.created_at`, `${m}.id`),
    author: (m, field, scope) => {
      const u = scope.alias('author');
      return nullableSql(`SELECT ${scope.object('User', field, u)} FROM users ${u} WHERE ${u}.id = ${m}.author_id`);
    },
    // Reached from a conversation the viewer takes part in: visible.
    conversation: (m, field, scope) => {
      const c = scope.alias('conversation');
      return nullableSql(`SELECT ${scope.object('Conversation', field, c)} FROM conversations ${c} WHERE ${c}.id = ${m}.conversation_id`);
    },
  },
};

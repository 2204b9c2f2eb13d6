import DataLoader from 'dataloader';
import type { CachedBatches, CachedRelation } from '../cached-batch.js';
import type { LoaderDependencies } from '../loader-dependencies.js';
import { tags } from '../../writes/tags.js';
import { orderByKeys } from '../../graphql/relay/order-by-keys.js';
import { pageKey } from '../../graphql/relay/page-arguments.js';
import type { MessageRow } from './rows.js';
import type { UserRow } from '../users/rows.js';
import {
  authorOfRow,
  countMessages,
  findHistoryPages,
  findLastMessages,
  findVisibleMessages,
  type HistoryPageKey,
  messageOfRow,
  type MessageWithAuthorRow,
} from './sql.js';

const historyPageKey = (key: HistoryPageKey) => `${key.conversationId}/${pageKey(key.page)}`;

/** A message as the loader cache keeps it: without its author, who is kept apart (cached-batch.ts). */
function withoutAuthor(row: MessageRow): MessageRow {
  return { id: row.id, conversationId: row.conversationId, authorId: row.authorId, body: row.body, createdAt: row.createdAt, editedAt: row.editedAt };
}

/** The authors of messages read with their authors, once each. */
function authorsOf(rows: readonly MessageRow[]): UserRow[] {
  const authors = new Map<number, UserRow>();
  for (const row of rows) if (row.author) authors.set(row.authorId, row.author);
  return [...authors.values()];
}

/**
 * A message's tags in the loader cache: its own (editMessage touches it)
 * and its conversation's (leaveConversation: who may see it).
 */
const visibleMessage: CachedRelation<string, MessageRow | null, MessageRow> = {
  // Its statement reads the viewer's participation: kept per viewer.
  scope: 'viewer',
  key: String,
  keep: (row) => (row ? { kept: withoutAuthor(row), tags: [tags.message(row.id), tags.conversation(row.conversationId)], users: authorsOf([row]) } : undefined),
  restore: (row, user) => messageOfRow(row, user(row.authorId)),
};

// A conversation's messages change with writes touching Messages:<id>:
// sendMessage, and editMessage (besides Message:<id>). A list of them is
// kept under that one tag, not one per message: a read moves a tag's count
// from the store for each (a page of 20 messages was 21 tags; the Inbox's
// 50 pages, 1,050 of its 1,300).
export function createMessageLoaders({ pool, viewer, batch, traced }: LoaderDependencies, cached: CachedBatches, primeUser: (user: UserRow) => void) {
  // Messages are read with their author joined: each message keeps its
  // author, so Message.author answers at once, and userById is primed before
  // the batch resolves, so no path to the author costs a statement (and the
  // count of a request does not depend on which query answers first). One
  // object per author and batch (a batch's rows are of one moment; a later
  // batch, after a write, makes its own).
  const mapMessages = (rows: readonly MessageWithAuthorRow[]): MessageRow[] => {
    const authors = new Map<number, UserRow>();
    return rows.map((row) => {
      let author = authors.get(row.authorId);
      if (!author) {
        author = authorOfRow(row);
        authors.set(row.authorId, author);
        primeUser(author);
      }
      return messageOfRow(row, author);
    });
  };
  return {
    /** Messages by id as the viewer sees them: null outside the viewer's conversations (or when signed out). */
    visibleMessageById: new DataLoader<string, MessageRow | null>(
      cached(
        'visibleMessageById',
        visibleMessage,
        traced('visibleMessageById', async (ids) =>
          viewer ? orderByKeys(ids, mapMessages(await findVisibleMessages(pool, viewer.id, ids)), (row) => row.id) : ids.map(() => null),
        ),
      ),
      { batch },
    ),

    /** The newest message of each conversation, null for an empty one. */
    lastMessageByConversation: new DataLoader<number, MessageRow | null>(
      cached(
        'lastMessageByConversation',
        {
          scope: 'shared',
          key: String,
          // None yet: kept too, until a message is sent (it touches Messages:<id>).
          keep: (row, id) => ({
            kept: row && withoutAuthor(row),
            tags: [tags.messages(id)],
            users: row ? authorsOf([row]) : [],
          }),
          restore: (row, user) => row && messageOfRow(row, user(row.authorId)),
        },
        traced('lastMessageByConversation', async (conversationIds) =>
          orderByKeys(conversationIds, mapMessages(await findLastMessages(pool, conversationIds)), (row) => row.conversationId),
        ),
      ),
      { batch },
    ),

    /**
     * Raw pages of history for many conversations at once (size + 1 rows, in
     * the direction read); keyed by conversation and page arguments. Callers
     * check the viewer may read the conversation first.
     */
    messagesByConversation: new DataLoader<HistoryPageKey, MessageRow[], string>(
      cached(
        'messagesByConversation',
        {
          scope: 'shared',
          key: historyPageKey,
          keep: (rows, key) => ({
            kept: rows.map(withoutAuthor),
            tags: [tags.messages(key.conversationId)],
            users: authorsOf(rows),
          }),
          restore: (rows, user) => rows.map((row) => messageOfRow(row, user(row.authorId))),
        },
        traced('messagesByConversation', async (keys) => {
          const { pages, authors } = await findHistoryPages(pool, keys);
          for (const author of authors) primeUser(author);
          return pages;
        }),
      ),
      { batch, cacheKeyFn: historyPageKey },
    ),

    /** Messages per conversation (totalCount, asked for explicitly). */
    messageCountByConversation: new DataLoader<number, number>(
      cached(
        'messageCountByConversation',
        { scope: 'shared', key: String, keep: (count, id) => ({ kept: count, tags: [tags.messages(id)], users: [] }), restore: (count) => count },
        traced('messageCountByConversation', async (conversationIds) =>
          orderByKeys(conversationIds, await countMessages(pool, conversationIds), (row) => row.conversationId).map((row) => row?.count ?? 0),
        ),
      ),
      { batch },
    ),
  };
}

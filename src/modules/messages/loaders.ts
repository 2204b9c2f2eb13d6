import DataLoader from 'dataloader';
import type { LoaderDependencies } from '../loader-dependencies.js';
import { groupByOrdinal, orderByKeys } from '../../graphql/relay/order-by-keys.js';
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
  type MessageWithAuthorOnceRow,
  type MessageWithAuthorRow,
  hasAuthor,
} from './sql.js';

export function createMessageLoaders({ pool, viewer, batch, traced }: LoaderDependencies, primeUser: (user: UserRow) => void) {
  // Messages are read with their author joined: each message keeps its
  // author, so Message.author answers at once, and userById is primed before
  // the batch resolves, so no path to the author costs a statement (and the
  // count of a request does not depend on which query answers first). One
  // object per author and batch (a batch's rows are of one moment; a later
  // batch, after a write, makes its own), read from whichever row carries
  // the author's columns (findHistoryPages sends them once per author).
  const withAuthors = (rows: readonly MessageWithAuthorOnceRow[]) => {
    const authors = new Map<number, UserRow>();
    for (const row of rows) {
      if (!hasAuthor(row) || authors.has(row.authorId)) continue;
      const author = authorOfRow(row);
      authors.set(row.authorId, author);
      primeUser(author);
    }
    return (row: MessageWithAuthorOnceRow): MessageRow => {
      const author = authors.get(row.authorId);
      // messages.author_id references users: every author comes on some row of the batch.
      if (!author) throw new Error(`message ${row.id}: author ${row.authorId} missing from its statement's rows`);
      return messageOfRow(row, author);
    };
  };
  const mapMessages = (rows: readonly MessageWithAuthorRow[]) => rows.map(withAuthors(rows));
  return {
    /** Messages by id as the viewer sees them: null outside the viewer's conversations (or when signed out). */
    visibleMessageById: new DataLoader<string, MessageRow | null>(
      traced('visibleMessageById', async (ids) =>
        viewer ? orderByKeys(ids, mapMessages(await findVisibleMessages(pool, viewer.id, ids)), (row) => row.id) : ids.map(() => null),
      ),
      { batch },
    ),

    /** The newest message of each conversation, null for an empty one. */
    lastMessageByConversation: new DataLoader<number, MessageRow | null>(
      traced('lastMessageByConversation', async (conversationIds) =>
        orderByKeys(conversationIds, mapMessages(await findLastMessages(pool, conversationIds)), (row) => row.conversationId),
      ),
      { batch },
    ),

    /**
     * Raw pages of history for many conversations at once (size + 1 rows, in
     * the direction read); keyed by conversation and page arguments. Callers
     * check the viewer may read the conversation first.
     */
    messagesByConversation: new DataLoader<HistoryPageKey, MessageRow[], string>(
      traced('messagesByConversation', async (keys) => {
        const rows = await findHistoryPages(pool, keys);
        return groupByOrdinal(keys.length, rows, withAuthors(rows));
      }),
      { batch, cacheKeyFn: (key) => `${key.conversationId}/${pageKey(key.page)}` },
    ),

    /** Messages per conversation (totalCount, asked for explicitly). */
    messageCountByConversation: new DataLoader<number, number>(
      traced('messageCountByConversation', async (conversationIds) =>
        orderByKeys(conversationIds, await countMessages(pool, conversationIds), (row) => row.conversationId).map((row) => row?.count ?? 0),
      ),
      { batch },
    ),
  };
}

import DataLoader from 'dataloader';
import type { LoaderDependencies } from '../loader-dependencies.js';
import { groupByOrdinal, orderByKeys } from '../relay/order-by-keys.js';
import { pageKey } from '../relay/page-arguments.js';
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

export function createMessageLoaders({ pool, viewer, batch }: LoaderDependencies, primeUser: (user: UserRow) => void) {
  // Messages are read with their author joined: each message keeps its
  // author, so Message.author answers at once, and userById is primed before
  // the batch resolves, so no path to the author costs a statement (and the
  // count of a request does not depend on which query answers first). Rows
  // repeat their author's columns for every message: one object per author
  // and batch (a batch's rows are of one moment; a later batch, after a
  // write, makes its own).
  const withAuthors = () => {
    const authors = new Map<number, UserRow>();
    return (row: MessageWithAuthorRow): MessageRow => {
      let author = authors.get(row.authorId);
      if (!author) {
        author = authorOfRow(row);
        authors.set(row.authorId, author);
        primeUser(author);
      }
      return messageOfRow(row, author);
    };
  };
  return {
    /** Messages by id as the viewer sees them: null outside the viewer's conversations (or when signed out). */
    visibleMessageById: new DataLoader<string, MessageRow | null>(
      async (ids) =>
        viewer ? orderByKeys(ids, (await findVisibleMessages(pool, viewer.id, ids)).map(withAuthors()), (row) => row.id) : ids.map(() => null),
      { batch },
    ),

    /** The newest message of each conversation, null for an empty one. */
    lastMessageByConversation: new DataLoader<number, MessageRow | null>(
      async (conversationIds) =>
        orderByKeys(conversationIds, (await findLastMessages(pool, conversationIds)).map(withAuthors()), (row) => row.conversationId),
      { batch },
    ),

    /**
     * Raw pages of history for many conversations at once (size + 1 rows, in
     * the direction read); keyed by conversation and page arguments. Callers
     * check the viewer may read the conversation first.
     */
    messagesByConversation: new DataLoader<HistoryPageKey, MessageRow[], string>(
      async (keys) => {
        return groupByOrdinal(keys.length, await findHistoryPages(pool, keys), withAuthors());
      },
      { batch, cacheKeyFn: (key) => `${key.conversationId}/${pageKey(key.page)}` },
    ),

    /** Messages per conversation (totalCount, asked for explicitly). */
    messageCountByConversation: new DataLoader<number, number>(
      async (conversationIds) =>
        orderByKeys(conversationIds, await countMessages(pool, conversationIds), (row) => row.conversationId).map((row) => row?.count ?? 0),
      { batch },
    ),
  };
}

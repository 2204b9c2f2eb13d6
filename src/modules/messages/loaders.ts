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
  // Messages are read with their author joined: priming userById before the
  // batch resolves means Message.author never costs a statement (and the
  // count of a request does not depend on which query answers first).
  const withoutAuthor = (row: MessageWithAuthorRow): MessageRow => {
    primeUser(authorOfRow(row));
    return messageOfRow(row);
  };
  return {
    /** Messages by id as the viewer sees them: null outside the viewer's conversations (or when signed out). */
    visibleMessageById: new DataLoader<string, MessageRow | null>(
      async (ids) =>
        viewer ? orderByKeys(ids, (await findVisibleMessages(pool, viewer.id, ids)).map(withoutAuthor), (row) => row.id) : ids.map(() => null),
      { batch },
    ),

    /** The newest message of each conversation, null for an empty one. */
    lastMessageByConversation: new DataLoader<number, MessageRow | null>(
      async (conversationIds) =>
        orderByKeys(conversationIds, (await findLastMessages(pool, conversationIds)).map(withoutAuthor), (row) => row.conversationId),
      { batch },
    ),

    /**
     * Raw pages of history for many conversations at once (size + 1 rows, in
     * the direction read); keyed by conversation and page arguments. Callers
     * check the viewer may read the conversation first.
     */
    messagesByConversation: new DataLoader<HistoryPageKey, MessageRow[], string>(
      async (keys) => {
        return groupByOrdinal(keys.length, await findHistoryPages(pool, keys), withoutAuthor);
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

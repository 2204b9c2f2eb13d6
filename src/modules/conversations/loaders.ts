import DataLoader from 'dataloader';
import type { LoaderDependencies } from '../loader-dependencies.js';
import { groupByKeys, groupByOrdinal, orderByKeys } from '../../graphql/relay/order-by-keys.js';
import { pageKey } from '../../graphql/relay/page-arguments.js';
import type { UserRow } from '../users/rows.js';
import { userOfRow } from '../users/sql.js';
import type { ConversationRow } from './rows.js';
import {
  conversationOfRow,
  countConversationsOf,
  countUnread,
  findInboxPages,
  findParticipantUsers,
  findVisibleConversations,
  type InboxPageKey,
} from './sql.js';

export function createConversationLoaders({ pool, viewer, batch, traced }: LoaderDependencies, primeUser: (user: UserRow) => void) {
  return {
    /** Conversations by id as the viewer sees them: null unless the viewer takes part (or is signed out). */
    visibleConversationById: new DataLoader<number, ConversationRow | null>(
      traced('visibleConversationById', async (ids) =>
        viewer ? orderByKeys(ids, await findVisibleConversations(pool, viewer.id, ids), (row) => row.id) : ids.map(() => null),
      ),
      { batch },
    ),

    /** The users taking part in each conversation; primes userById with them. */
    participantsByConversation: new DataLoader<number, UserRow[]>(
      traced('participantsByConversation', async (conversationIds) => {
        const rows = await findParticipantUsers(pool, conversationIds);
        return groupByKeys(
          conversationIds,
          rows,
          (row) => row.conversationId,
          (row) => {
            const user = userOfRow(row);
            primeUser(user);
            return user;
          },
        );
      }),
      { batch },
    ),

    /** The viewer's unread count per conversation (0 when signed out). */
    unreadCountByConversation: new DataLoader<number, number>(
      traced('unreadCountByConversation', async (conversationIds) => {
        if (!viewer) return conversationIds.map(() => 0);
        const rows = await countUnread(pool, viewer.id, conversationIds);
        return orderByKeys(conversationIds, rows, (row) => row.conversationId).map((row) => row?.unread ?? 0);
      }),
      { batch },
    ),

    /** Raw pages of a user's conversations (size + 1 rows, in the direction read); keyed by user and page. */
    inboxPage: new DataLoader<InboxPageKey, ConversationRow[], string>(
      traced('inboxPage', async (keys) => {
        return groupByOrdinal(keys.length, await findInboxPages(pool, keys), conversationOfRow);
      }),
      { batch, cacheKeyFn: (key) => `${key.userId}/${pageKey(key.page)}` },
    ),

    /** How many conversations a user takes part in (totalCount, asked for explicitly). */
    conversationCountByUser: new DataLoader<number, number>(
      traced('conversationCountByUser', async (userIds) =>
        orderByKeys(userIds, await countConversationsOf(pool, userIds), (row) => row.userId).map((row) => row?.count ?? 0),
      ),
      { batch },
    ),
  };
}

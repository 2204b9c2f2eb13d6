import DataLoader from 'dataloader';
import type { CachedBatches } from '../cached-batch.js';
import type { LoaderDependencies } from '../loader-dependencies.js';
import { tags } from '../../writes/tags.js';
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

const inboxPageKey = (key: InboxPageKey) => `${key.userId}/${pageKey(key.page)}`;

// The tags each value is kept under in the loader cache (cached-batch.ts)
// are those of the writes that change it: a conversation's row, its
// participants, and a viewer's unread count in it change only with writes
// touching Conversation:<id> (sendMessage, markConversationRead,
// renameConversation, leaveConversation, createConversation for a new
// one); a user's list of conversations with writes touching Inbox:<user>.
export function createConversationLoaders({ pool, viewer, batch, traced }: LoaderDependencies, cached: CachedBatches, primeUser: (user: UserRow) => void) {
  return {
    /** Conversations by id as the viewer sees them: null unless the viewer takes part (or is signed out). */
    visibleConversationById: new DataLoader<number, ConversationRow | null>(
      cached(
        'visibleConversationById',
        // Its statement reads the viewer's participation: kept per viewer.
        { scope: 'viewer', key: String, keep: (row) => (row ? { kept: row, tags: [tags.conversation(row.id)], users: [] } : undefined), restore: (row) => row },
        traced('visibleConversationById', async (ids) =>
          viewer ? orderByKeys(ids, await findVisibleConversations(pool, viewer.id, ids), (row) => row.id) : ids.map(() => null),
        ),
      ),
      { batch },
    ),

    /** The users taking part in each conversation; primes userById with them. */
    participantsByConversation: new DataLoader<number, UserRow[]>(
      cached(
        'participantsByConversation',
        {
          scope: 'shared',
          key: String,
          keep: (users, id) => ({ kept: users.map((user) => user.id), tags: [tags.conversation(id)], users }),
          restore: (ids, user) => ids.map(user),
        },
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
      ),
      { batch },
    ),

    /** The viewer's unread count per conversation (0 when signed out). */
    unreadCountByConversation: new DataLoader<number, number>(
      cached(
        'unreadCountByConversation',
        { scope: 'viewer', key: String, keep: (unread, id) => ({ kept: unread, tags: [tags.conversation(id)], users: [] }), restore: (unread) => unread },
        traced('unreadCountByConversation', async (conversationIds) => {
          if (!viewer) return conversationIds.map(() => 0);
          const rows = await countUnread(pool, viewer.id, conversationIds);
          return orderByKeys(conversationIds, rows, (row) => row.conversationId).map((row) => row?.unread ?? 0);
        }),
      ),
      { batch },
    ),

    /** Raw pages of a user's conversations (size + 1 rows, in the direction read); keyed by user and page. */
    inboxPage: new DataLoader<InboxPageKey, ConversationRow[], string>(
      cached(
        'inboxPage',
        // The viewer's own (visible.ts loads no one else's): kept per viewer.
        {
          scope: 'viewer',
          key: inboxPageKey,
          keep: (rows, key) => ({ kept: rows, tags: [tags.inbox(key.userId), ...rows.map((row) => tags.conversation(row.id))], users: [] }),
          restore: (rows) => rows,
        },
        traced('inboxPage', async (keys) => {
          return groupByOrdinal(keys.length, await findInboxPages(pool, keys), (row) => row.ordinal, conversationOfRow);
        }),
      ),
      { batch, cacheKeyFn: inboxPageKey },
    ),

    /** How many conversations a user takes part in (totalCount, asked for explicitly). */
    conversationCountByUser: new DataLoader<number, number>(
      cached(
        'conversationCountByUser',
        { scope: 'shared', key: String, keep: (count, userId) => ({ kept: count, tags: [tags.inbox(userId)], users: [] }), restore: (count) => count },
        traced('conversationCountByUser', async (userIds) =>
          orderByKeys(userIds, await countConversationsOf(pool, userIds), (row) => row.userId).map((row) => row?.count ?? 0),
        ),
      ),
      { batch },
    ),
  };
}

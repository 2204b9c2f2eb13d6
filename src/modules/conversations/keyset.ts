import type { Keyset } from '../../graphql/relay/cursor.js';
import type { ConversationRow } from './rows.js';

/** Where a conversation sits in an inbox: newest activity first, the id breaking ties (the order of findInboxPages). */
export const conversationKeyset = (row: ConversationRow): Keyset => ({ at: row.lastMessageAt ?? row.createdAt, id: String(row.id) });

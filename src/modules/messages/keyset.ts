import type { Keyset } from '../../graphql/relay/cursor.js';
import type { MessageRow } from './rows.js';

/** Where a message sits in a history: newest first, the id breaking ties (the order of findHistoryPages). */
export const messageKeyset = (row: MessageRow): Keyset => ({ at: row.createdAt, id: row.id });

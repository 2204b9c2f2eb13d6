// Rows of the messages domain as its SQL returns them (columns aliased to
// camelCase); the GraphQL mappers in codegen.ts tie Message to them.
import type { UserRow } from '../users/rows.js';

export interface MessageRow {
  /** bigint in the database; a string here, as pg returns int8, since it may exceed 2^53. */
  id: string;
  conversationId: number;
  authorId: number;
  body: string;
  createdAt: Date;
  editedAt: Date | null;
  /**
   * The author, where the row was read with it joined (the loaders'
   * statements): Message.author then answers at once, without a loader's
   * promise. Absent on what a write returns.
   */
  author?: UserRow;
}

/** What sendMessage resolves to: its payload's other fields are read from the message. */
export interface SentMessage {
  message: MessageRow;
}

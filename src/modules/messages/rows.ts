// Rows of the messages domain as its SQL returns them (columns aliased to
// camelCase); the GraphQL mappers in codegen.ts tie Message to them.

export interface MessageRow {
  /** bigint in the database; a string here, as pg returns int8, since it may exceed 2^53. */
  id: string;
  conversationId: number;
  authorId: number;
  body: string;
  createdAt: Date;
  editedAt: Date | null;
}

/** What sendMessage resolves to: its payload's other fields are read from the message. */
export interface SentMessage {
  message: MessageRow;
}

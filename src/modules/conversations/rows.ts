// Rows of the conversations domain as its SQL returns them (columns aliased
// to camelCase); the GraphQL mappers in codegen.ts tie Conversation to them.

export type ConversationKind = 'direct' | 'group';

export interface ConversationRow {
  id: number;
  title: string | null;
  kind: ConversationKind;
  createdById: number;
  createdAt: Date;
  updatedAt: Date;
  lastMessageAt: Date | null;
}

export interface ParticipantRow {
  conversationId: number;
  userId: number;
  role: 'owner' | 'member';
  joinedAt: Date;
  lastReadAt: Date | null;
}

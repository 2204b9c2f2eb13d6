import type { PrismaClient } from '../../db/prisma.js';
import { ForbiddenError, NotFoundError } from '../../graphql/errors.js';
import { toGlobalId } from '../relay/global-id.js';
import { normalizeBody } from './body.js';
import type { MessageRow } from './rows.js';

/**
 * Replaces a message's body, by its author only. Outside the editor's
 * conversations the message does not exist (NOT_FOUND); inside, someone
 * else's message is FORBIDDEN.
 */
export async function editMessage(prisma: PrismaClient, editorId: number, input: { messageId: string; body: string }): Promise<MessageRow> {
  const body = normalizeBody(input.body);
  const id = BigInt(input.messageId);
  const updated = await prisma.$transaction(async (transaction) => {
    const message = await transaction.message.findFirst({
      where: { id, conversation: { participants: { some: { userId: editorId } } } },
      select: { authorId: true },
    });
    if (!message) throw new NotFoundError('Message', toGlobalId('Message', input.messageId));
    if (message.authorId !== editorId) throw new ForbiddenError('Only the author of a message can edit it.');
    return transaction.message.update({ where: { id }, data: { body, editedAt: new Date() } });
  });
  return { ...updated, id: updated.id.toString() };
}

import type { PrismaClient } from '../../db/prisma.js';
import { BadUserInputError } from '../../http/errors.js';
import type { UserRow } from './rows.js';

export const MAX_DISPLAY_NAME_LENGTH = 80;
export const MAX_AVATAR_URL_LENGTH = 2048;

export interface UpdateProfileInput {
  displayName?: string | null;
  /** null removes the avatar; absent leaves it. */
  avatarUrl?: string | null;
}

/** Changes the viewer's own display name and avatar; fields left out are kept. */
export async function updateProfile(prisma: PrismaClient, userId: number, input: UpdateProfileInput): Promise<UserRow> {
  const data: { displayName?: string; avatarUrl?: string | null } = {};
  if (input.displayName !== undefined) {
    const displayName = input.displayName?.trim() ?? '';
    const length = [...displayName].length;
    if (length === 0 || length > MAX_DISPLAY_NAME_LENGTH) {
      throw new BadUserInputError(`input.displayName: 1 to ${MAX_DISPLAY_NAME_LENGTH} characters`, 'input.displayName');
    }
    data.displayName = displayName;
  }
  if (input.avatarUrl !== undefined) {
    if (input.avatarUrl !== null) {
      let url: URL | undefined;
      try {
        url = new URL(input.avatarUrl);
      } catch {
        url = undefined;
      }
      if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || input.avatarUrl.length > MAX_AVATAR_URL_LENGTH) {
        throw new BadUserInputError('input.avatarUrl: expected an http(s) URL of at most 2048 characters', 'input.avatarUrl');
      }
    }
    data.avatarUrl = input.avatarUrl;
  }
  return prisma.user.update({ where: { id: userId }, data });
}

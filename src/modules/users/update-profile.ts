import type { PrismaClient } from '../../db/prisma.js';
import { Prisma } from '../../generated/prisma/client.js';
import { BadUserInputError, UnauthenticatedError } from '../../graphql/errors.js';
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
    // PostgreSQL text cannot hold U+0000: refused here rather than failing in the UPDATE.
    if (displayName.includes('\u0000')) {
      throw new BadUserInputError('input.displayName: cannot contain the NUL character (U+0000)', 'input.displayName');
    }
    data.displayName = displayName;
  }
  if (input.avatarUrl !== undefined) {
    // Surrounding spaces are a copy-paste accident, not part of the URL.
    const avatarUrl = input.avatarUrl?.trim() ?? null;
    if (avatarUrl !== null) {
      let url: URL | undefined;
      try {
        url = new URL(avatarUrl);
      } catch {
        url = undefined;
      }
      // The URL parser drops tabs and newlines and escapes other control characters, but the raw
      // text is what is stored (and PostgreSQL cannot hold U+0000): refuse them instead.
      const controls = /[\u0000-\u001f\u007f]/.test(avatarUrl);
      if (!url || controls || (url.protocol !== 'https:' && url.protocol !== 'http:') || avatarUrl.length > MAX_AVATAR_URL_LENGTH) {
        throw new BadUserInputError('input.avatarUrl: expected an http(s) URL of at most 2048 characters, without control characters', 'input.avatarUrl');
      }
    }
    data.avatarUrl = avatarUrl;
  }
  try {
    return await prisma.user.update({ where: { id: userId }, data });
  } catch (error) {
    // P2025: no such row. The token names a user who no longer exists: signed out (Query.viewer is null for it).
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2025') throw new UnauthenticatedError();
    throw error;
  }
}

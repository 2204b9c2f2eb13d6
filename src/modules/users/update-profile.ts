import { BadUserInputError, UnauthenticatedError } from '../../graphql/errors.js';
import { tags } from '../../writes/tags.js';
import type { Writer } from '../../writes/writer.js';
import type { UserRow } from './rows.js';
import { userColumns } from './sql.js';

export const MAX_DISPLAY_NAME_LENGTH = 80;
export const MAX_AVATAR_URL_LENGTH = 2048;

export interface UpdateProfileInput {
  displayName?: string | null;
  /** null removes the avatar; absent leaves it. */
  avatarUrl?: string | null;
}

/** Changes the viewer's own display name and avatar; fields left out are kept. Touches the user. */
export async function updateProfile(writer: Writer, userId: number, input: UpdateProfileInput): Promise<UserRow> {
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
      // text is what is stored: refuse them instead.
      // eslint-disable-next-line no-control-regex -- control characters are what it looks for
      const controls = /[\u0000-\u001f\u007f]/.test(avatarUrl);
      if (!url || controls || (url.protocol !== 'https:' && url.protocol !== 'http:') || avatarUrl.length > MAX_AVATAR_URL_LENGTH) {
        throw new BadUserInputError('input.avatarUrl: expected an http(s) URL of at most 2048 characters, without control characters', 'input.avatarUrl');
      }
    }
    data.avatarUrl = avatarUrl;
  }
  return writer.run(async ({ client, touch }) => {
    const { rows } = await client.query<UserRow>(
      `UPDATE users u
       SET display_name = CASE WHEN $2 THEN $3 ELSE u.display_name END,
           avatar_url = CASE WHEN $4 THEN $5 ELSE u.avatar_url END
       WHERE u.id = $1
       RETURNING ${userColumns('u')}`,
      [userId, data.displayName !== undefined, data.displayName ?? null, data.avatarUrl !== undefined, data.avatarUrl ?? null],
    );
    // The token names a user who no longer exists: signed out (Query.viewer is null for it).
    if (rows.length === 0) throw new UnauthenticatedError();
    touch(tags.user(userId));
    return rows[0]!;
  });
}

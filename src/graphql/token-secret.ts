import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';

/**
 * The key bearer tokens are signed with. JWT_SECRET when it is set (config
 * requires it in production); otherwise a random secret made on first use and
 * kept in a file of the data directory, readable by its owner only. No secret
 * is written in the source, so nobody can sign a token for a server they
 * only read the code of, and tokens (the demo token `npm run dev` prints, and
 * those of `npm run token`) keep working across restarts.
 */
export async function tokenSecret(auth: Config['auth']): Promise<string> {
  return auth.jwtSecret ?? readOrCreateSecret(auth.secretFile);
}

/** The secret in `file`, made (with its directory) when there is none. */
export async function readOrCreateSecret(file: string): Promise<string> {
  try {
    return await readSecret(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  // Written whole under another name, then linked into place: a process
  // starting at the same moment (the server and `npm run token`) sees either
  // no file or the whole secret, and the second to link reads the first's.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(draft, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(draft, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(draft);
  }
  return readSecret(file);
}

async function readSecret(file: string): Promise<string> {
  const secret = (await readFile(file, 'utf8')).trim();
  if (secret.length < 32) {
    throw new Error(
      `${file} holds no secret of at least 32 characters: delete it to have a new one made (tokens signed with the old one stop working), or set JWT_SECRET.`,
    );
  }
  return secret;
}

import { jwtVerify, SignJWT, errors as joseErrors } from 'jose';
import { INTEGER_MAX } from '../db/pool.js';
import type { Viewer } from './viewer.js';

/**
 * Bearer tokens: HS256 JWTs whose subject is a user id. Verification checks
 * signature, algorithm and expiry; a request with a bad token is treated as
 * signed out (viewer null), and viewer-only fields answer UNAUTHENTICATED.
 * So is a validly signed token whose subject is not a user id as issueToken
 * writes it: a user id is an int4, and any other spelling ("1e3", "01", a
 * number beyond 2^31 − 1) would fail or mislead the statements that use it.
 */

export interface AuthOptions {
  secret: string;
  /** Lifetime of issued tokens, in seconds. */
  ttlSeconds: number;
}

const ALGORITHM = 'HS256';

export function createAuth(options: AuthOptions) {
  const key = new TextEncoder().encode(options.secret);

  /**
   * The viewer of an Authorization header and when its token expires
   * (milliseconds since the epoch; undefined for a token without `exp`):
   * a socket opened with it closes then. Null when absent, malformed,
   * forged or expired.
   */
  const verify = async (header: string | undefined): Promise<{ viewer: Viewer; expiresAt: number | undefined } | null> => {
    const match = header?.match(/^Bearer\s+(\S+)$/i);
    if (!match) return null;
    try {
      const { payload } = await jwtVerify(match[1]!, key, { algorithms: [ALGORITHM] });
      // jose types `sub` as a string but does not check it: a signed { "sub": 1 } arrives as a number.
      const viewer = viewerOfSubject(payload.sub);
      return viewer && { viewer, expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined };
    } catch (error) {
      if (error instanceof joseErrors.JOSEError) return null;
      throw error;
    }
  };

  return {
    async issueToken(userId: number): Promise<string> {
      return new SignJWT({})
        .setProtectedHeader({ alg: ALGORITHM })
        .setSubject(String(userId))
        .setIssuedAt()
        .setExpirationTime(`${options.ttlSeconds}s`)
        .sign(key);
    },

    /** The viewer of an Authorization header; null when absent, malformed, forged or expired. */
    async viewerFromHeader(header: string | undefined): Promise<Viewer | null> {
      return (await verify(header))?.viewer ?? null;
    },

    verify,
  };
}

export type Auth = ReturnType<typeof createAuth>;

/** The viewer a subject names: a user id from 1 to INTEGER_MAX as a string in canonical decimal, else null. */
function viewerOfSubject(subject: unknown): Viewer | null {
  if (typeof subject !== 'string' || !/^[1-9]\d{0,9}$/.test(subject)) return null;
  const id = Number(subject);
  return id <= INTEGER_MAX ? { id } : null;
}

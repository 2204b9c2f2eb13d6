import { jwtVerify, SignJWT, errors as joseErrors } from 'jose';
import { LRUCache } from 'lru-cache';
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
  /** Verified tokens remembered, the least recently used forgotten first. Default: 10 000. */
  verifiedTokens?: number;
}

interface Verified {
  viewer: Viewer;
  expiresAt: number | undefined;
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
  // A token's signature is checked once: jose verifies through WebCrypto,
  // some 60-120 µs of CPU, and 0.4 ms per request under load (bench:realtime's
  // writes), paid again by every request a client sends with the same token.
  // Only tokens that verified are kept (a flood of forged ones cannot fill
  // it), keyed by the whole token, and each is still refused once it expires.
  const verified = new LRUCache<string, Verified>({ max: options.verifiedTokens ?? 10_000 });
  const verify = async (header: string | undefined): Promise<Verified | null> => {
    const match = header?.match(/^Bearer\s+(\S+)$/i);
    if (!match) return null;
    const token = match[1]!;
    const known = verified.get(token);
    if (known) {
      if (known.expiresAt === undefined || Date.now() < known.expiresAt) return known;
      verified.delete(token);
      return null;
    }
    try {
      const { payload } = await jwtVerify(token, key, { algorithms: [ALGORITHM] });
      // jose types `sub` as a string but does not check it: a signed { "sub": 1 } arrives as a number.
      const viewer = viewerOfSubject(payload.sub);
      if (!viewer) return null;
      const result: Verified = { viewer, expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined };
      verified.set(token, result);
      return result;
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

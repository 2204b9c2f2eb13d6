import { jwtVerify, SignJWT, errors as joseErrors } from 'jose';
import type { Viewer } from './viewer.js';

/**
 * Bearer tokens: HS256 JWTs whose subject is a user id. Verification checks
 * signature, algorithm and expiry; a request with a bad token is treated as
 * signed out (viewer null), and viewer-only fields answer UNAUTHENTICATED.
 */

export interface AuthOptions {
  secret: string;
  /** Lifetime of issued tokens, in seconds. */
  ttlSeconds: number;
}

const ALGORITHM = 'HS256';

export function createAuth(options: AuthOptions) {
  const key = new TextEncoder().encode(options.secret);
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
      const match = header?.match(/^Bearer\s+(\S+)$/i);
      if (!match) return null;
      try {
        const { payload } = await jwtVerify(match[1]!, key, { algorithms: [ALGORITHM] });
        const id = Number(payload.sub);
        return Number.isSafeInteger(id) && id > 0 ? { id } : null;
      } catch (error) {
        if (error instanceof joseErrors.JOSEError) return null;
        throw error;
      }
    },
  };
}

export type Auth = ReturnType<typeof createAuth>;

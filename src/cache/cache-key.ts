import { createHash } from 'node:crypto';
import { configure } from 'safe-stable-stringify';
import type { CacheScope } from '../graphql/cache-policy.js';
import type { Viewer } from '../graphql/viewer.js';

/**
 * Keys of stored answers: a hash of everything an answer depends on, so two
 * requests share an answer only when it is the same answer for both.
 */

// Variables as canonical JSON (keys sorted): `{a, b}` and `{b, a}` share an answer.
const canonicalJson = configure({ deterministic: true, circularValue: Error, bigint: false });

/**
 * Whose answer it is: everyone's for PUBLIC; for PRIVATE, the viewer's own,
 * and signed-out requests share one scope of their own.
 */
export function scopeOf(scope: CacheScope, viewer: Viewer | null): string {
  if (scope === 'PUBLIC') return 'public';
  return viewer ? `user:${viewer.id}` : 'signed-out';
}

/** The hash of a document, normalized (printed: no comments, no layout), with the schema it was validated against. */
export function documentHash(schemaHash: string, printedDocument: string): string {
  return createHash('sha256').update(schemaHash).update('\0').update(printedDocument).digest('base64url');
}

/** The key of one answer: document, operation, variables and scope. */
export function answerKey(document: string, operationName: string | null | undefined, variables: unknown, scope: string): string {
  return createHash('sha256')
    .update(document)
    .update('\0')
    .update(operationName ?? '')
    .update('\0')
    .update(canonicalJson(variables ?? {}) ?? '{}')
    .update('\0')
    .update(scope)
    .digest('base64url');
}

import { BadUserInputError } from '../errors.js';
import { decodeCursor, type Keyset } from './cursor.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/**
 * A page request in one direction. `forward` reads the list in its own
 * order (first/after); backward reads from its end (last/before).
 */
export interface PageRequest {
  forward: boolean;
  size: number;
  cursor: Keyset | null;
}

export interface PageArguments {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/** A page size argument: `value`, or the default when it is absent; 0 to MAX_PAGE_SIZE, else BAD_USER_INPUT naming `argument`. */
export function parsePageSize(value: number | null | undefined, argument: string): number {
  if (value == null) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(value) || value < 0 || value > MAX_PAGE_SIZE) {
    throw new BadUserInputError(`${argument}: expected a whole number from 0 to ${MAX_PAGE_SIZE} (got ${value})`, argument);
  }
  return value;
}

/** Validates Relay arguments; mixing directions is refused rather than guessed at. */
export function parsePageArguments(args: PageArguments): PageRequest {
  const backward = args.last != null || args.before != null;
  if (backward && (args.first != null || args.after != null)) {
    throw new BadUserInputError('Page with first/after or with last/before, not both.', args.first != null ? 'first' : 'after');
  }
  if (backward) {
    return {
      forward: false,
      size: parsePageSize(args.last, 'last'),
      cursor: args.before != null ? decodeCursor(args.before, 'before') : null,
    };
  }
  return {
    forward: true,
    size: parsePageSize(args.first, 'first'),
    cursor: args.after != null ? decodeCursor(args.after, 'after') : null,
  };
}

/** A stable string for a page request: part of a loader's cache key. */
export function pageKey(page: PageRequest): string {
  return `${page.forward ? 'f' : 'b'}:${page.size}:${page.cursor ? `${page.cursor.at.toISOString()}|${page.cursor.id}` : ''}`;
}

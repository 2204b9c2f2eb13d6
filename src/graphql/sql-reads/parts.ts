import { PART_MARK, TAG_MARK, type CompiledParts } from './compile.js';

/**
 * Where the objects compiled reads keep apart (one conversation of an inbox,
 * with its participants, messages and unread count) are kept across
 * requests, tagged with what they hold, so that a read after a write reads
 * again only the objects the write changed: the loader cache, whose
 * invalidation (on every instance, fail-open) and bounds they share
 * (app/ makes one of it).
 */
export interface PartsCache {
  /** The request's way to it. `routed`: the request's reads are routed between the primary and replicas (db/read-routing.ts). */
  forRequest(request: { routing?: { readonly storable: boolean; readonly reading: boolean } }): RequestParts;
}

export interface RequestParts {
  /** Called before the read's first statement: with routed reads, what is kept must be checked before anything is read. */
  prepare(): Promise<void>;
  /**
   * The parts kept under `keys` that no write changed; `keep` keeps one read
   * after this lookup (nothing when the lookup could not check). Never throws.
   */
  lookup(keys: readonly string[]): Promise<{ values: ReadonlyMap<string, unknown>; keep(key: string, json: string, tags: readonly string[]): void }>;
}

/** The main text cut at its parts' marks: JSON text at even positions, the parts' ids at odd ones. */
export const piecesOf = (text: string): string[] => text.split(PART_MARK);

/** A part's JSON without the marks of its tags, and those tags. */
export function unmarked(json: string): { json: string; tags: string[] } {
  if (!json.includes(TAG_MARK)) return { json, tags: [] };
  const pieces = json.split(TAG_MARK);
  const tags = new Set<string>();
  let text = '';
  for (let index = 0; index < pieces.length; index += 1) {
    if (index % 2 === 0) text += pieces[index];
    else tags.add(pieces[index]!);
  }
  return { json: text, tags: [...tags] };
}

/** The cache key of the part `id` of a read, for a viewer (parts hold what only they see: unread counts, their email). */
export const partKey = (parts: CompiledParts, viewerId: number, id: string): string => `part:${parts.key}:${viewerId}:${id}`;

/**
 * The answer's JSON text: the main text with each part's JSON in its place,
 * from `kept` or else from the parts statement (`readParts`, given the ids
 * missing), which are kept for the next read. Undefined when a part is
 * missing from both (the object went away between the two statements): the
 * caller reads again without parts.
 */
export async function assemble(
  main: string,
  parts: CompiledParts,
  viewerId: number,
  cache: RequestParts,
  readParts: (ids: string[]) => Promise<{ id: string; json: string }[]>,
): Promise<string | undefined> {
  const pieces = piecesOf(main);
  if (pieces.length === 1) return main;
  const ids = [...new Set(pieces.filter((_piece, index) => index % 2 === 1))];
  const lookup = await cache.lookup(ids.map((id) => partKey(parts, viewerId, id)));
  const json = new Map<string, string>();
  const missing: string[] = [];
  for (const id of ids) {
    const kept = lookup.values.get(partKey(parts, viewerId, id));
    if (typeof kept === 'string') json.set(id, kept);
    else missing.push(id);
  }
  if (missing.length > 0) {
    for (const row of await readParts(missing)) {
      const part = unmarked(row.json);
      json.set(row.id, part.json);
      lookup.keep(partKey(parts, viewerId, row.id), part.json, [...parts.tags(row.id), ...part.tags]);
    }
  }
  let text = '';
  for (let index = 0; index < pieces.length; index += 1) {
    if (index % 2 === 0) text += pieces[index];
    else {
      const part = json.get(pieces[index]!);
      if (part === undefined) return undefined;
      text += part;
    }
  }
  return text;
}

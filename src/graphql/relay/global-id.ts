import { BIGINT_MAX, INTEGER_MAX } from '../../db/pool.js';
import { BadUserInputError } from '../errors.js';

/**
 * Opaque global ids: base64url of "<Type>:<database id>". Clients must not
 * parse them; the server checks the type of every id it is given.
 */
export type NodeType = 'User' | 'Conversation' | 'Message' | 'UserStats';

const NODE_TYPES: readonly NodeType[] = ['User', 'Conversation', 'Message', 'UserStats'];

/**
 * The largest database id of each type: users and conversations are
 * integers (int4), messages bigints (int8). A user's statistics are keyed
 * by the user's id, under a type of their own: an id names one object.
 */
const MAX_ID: Record<NodeType, bigint> = {
  User: BigInt(INTEGER_MAX),
  Conversation: BigInt(INTEGER_MAX),
  Message: BIGINT_MAX,
  UserStats: BigInt(INTEGER_MAX),
};

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * base64url (RFC 4648 § 5, unpadded) of an ASCII string, in JavaScript:
 * Buffer's way makes two Buffers per id (the text's bytes and a view of
 * them) and two calls into C++, about twice the time for strings this short.
 */
function base64urlOfAscii(text: string): string {
  const codes: number[] = [];
  const end = text.length;
  let i = 0;
  for (; i + 2 < end; i += 3) {
    const bits = (text.charCodeAt(i) << 16) | (text.charCodeAt(i + 1) << 8) | text.charCodeAt(i + 2);
    codes.push(
      BASE64URL.charCodeAt(bits >> 18),
      BASE64URL.charCodeAt((bits >> 12) & 63),
      BASE64URL.charCodeAt((bits >> 6) & 63),
      BASE64URL.charCodeAt(bits & 63),
    );
  }
  if (i < end) {
    const bits = (text.charCodeAt(i) << 16) | (i + 1 < end ? text.charCodeAt(i + 1) << 8 : 0);
    codes.push(BASE64URL.charCodeAt(bits >> 18), BASE64URL.charCodeAt((bits >> 12) & 63));
    if (i + 1 < end) codes.push(BASE64URL.charCodeAt((bits >> 6) & 63));
  }
  return String.fromCharCode(...codes);
}

/**
 * The ids given out lately, per type. One answer names the same users many
 * times (each message's author, each conversation's participants) and the
 * next answers name them again: a lookup instead of an encoding. Bounded:
 * a type's map is emptied when it reaches ISSUED_KEPT ids (some 2 MB).
 */
const ISSUED_KEPT = 16_384;
const issued: Record<NodeType, Map<number | string, string>> = { User: new Map(), Conversation: new Map(), Message: new Map(), UserStats: new Map() };

export function toGlobalId(type: NodeType, id: number | string): string {
  const ids = issued[type];
  let globalId = ids.get(id);
  if (globalId === undefined) {
    // Types and database ids are ASCII: their UTF-8 is their characters.
    globalId = base64urlOfAscii(`${type}:${id}`);
    if (ids.size >= ISSUED_KEPT) ids.clear();
    ids.set(id, globalId);
  }
  return globalId;
}

/** Decodes any global id; a malformed one is bad input naming the argument. */
export function fromGlobalId(globalId: string, argument: string): { type: NodeType; id: string } {
  const decoded = Buffer.from(globalId, 'base64url').toString('utf8');
  const separator = decoded.indexOf(':');
  const type = decoded.slice(0, separator) as NodeType;
  const id = decoded.slice(separator + 1);
  // An id beyond its column's range is not one we issued, and would make the
  // statement fail. Only the one spelling we issue is accepted (base64url
  // decoding tolerates padding and stray characters), so an object has one
  // id: what caches and clients key by.
  if (separator < 0 || !NODE_TYPES.includes(type) || !/^[1-9]\d{0,18}$/.test(id) || BigInt(id) > MAX_ID[type] || toGlobalId(type, id) !== globalId) {
    throw new BadUserInputError(`${argument}: ${JSON.stringify(globalId)} is not an id this API issued`, argument);
  }
  return { type, id };
}

/** Decodes a global id that must be of `type`, as a database id. */
export function idOfType(globalId: string, type: 'User' | 'Conversation' | 'UserStats', argument: string): number;
export function idOfType(globalId: string, type: 'Message', argument: string): string;
export function idOfType(globalId: string, type: NodeType, argument: string): number | string {
  const decoded = fromGlobalId(globalId, argument);
  if (decoded.type !== type) {
    throw new BadUserInputError(`${argument}: expected the id of a ${type}, got the id of a ${decoded.type}`, argument);
  }
  // fromGlobalId checked the range of each type's ids.
  return type === 'Message' ? decoded.id : Number(decoded.id);
}

/**
 * What a global id this API issued stands for, `Type:id`, decoded without any
 * check: for ids the API itself just wrote into an answer (the response
 * cache's entity tags are exactly these strings), never for client input.
 */
export function nodeTagOfIssuedId(globalId: string): string {
  return Buffer.from(globalId, 'base64url').toString('utf8');
}

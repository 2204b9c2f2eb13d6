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

export function toGlobalId(type: NodeType, id: number | string): string {
  return Buffer.from(`${type}:${id}`, 'utf8').toString('base64url');
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

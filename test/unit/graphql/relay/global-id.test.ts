import { GraphQLError } from 'graphql';
import { fromGlobalId, idOfType, toGlobalId, type NodeType } from '../../../../src/graphql/relay/global-id.js';

const raw = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/** The error `run` throws, or fails the test. */
function errorOf(run: () => unknown): GraphQLError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    return error as GraphQLError;
  }
  throw new Error('expected an error, got none');
}

describe('toGlobalId / fromGlobalId', () => {
  it.each<[NodeType, number | string]>([
    ['User', 1],
    ['User', 2_147_483_647],
    ['Conversation', 77],
    ['Message', '1'],
    ['Message', '9223372036854775807'],
    ['UserStats', 1],
  ])('round-trips a %s id %s', (type, id) => {
    const globalId = toGlobalId(type, id);
    expect(fromGlobalId(globalId, 'id')).toEqual({ type, id: String(id) });
  });

  it('is the base64url of "<Type>:<id>", for ids of every length, once issued and again (past the bound of ids kept)', () => {
    const types: NodeType[] = ['User', 'Conversation', 'Message', 'UserStats'];
    const ids: (number | string)[] = ['9223372036854775807', 2_147_483_647];
    for (let id = 1; id < 40_000; id += 1) ids.push(id % 3 === 0 ? String(id * 7919) : id);
    for (const round of [1, 2]) {
      for (const type of types) {
        for (const id of ids) {
          const globalId = toGlobalId(type, id);
          if (globalId !== raw(`${type}:${id}`)) throw new Error(`round ${round}: ${type} ${id} gave ${globalId}, not ${raw(`${type}:${id}`)}`);
        }
      }
    }
  });

  it('is opaque: URL-safe, the database id not in clear, different for each type', () => {
    const ids = (['User', 'Conversation', 'Message', 'UserStats'] as const).map((type) => toGlobalId(type, 31337));
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(id).not.toContain('31337');
    }
    expect(new Set(ids).size).toBe(4);
  });

  it.each([
    ['empty', ''],
    ['random text', 'not-an-id'],
    ['a type alone', raw('User')],
    ['no id', raw('User:')],
    ['no type', raw(':1')],
    ['an unknown type', raw('Post:1')],
    ['a type in the wrong case', raw('user:1')],
    ['id 0', raw('User:0')],
    ['a leading zero', raw('User:01')],
    ['a negative id', raw('User:-1')],
    ['a fractional id', raw('Conversation:1.5')],
    ['an id with spaces', raw('Message: 1')],
    ['an id of 20 digits', raw('Message:12345678901234567890')],
    ['a cursor', raw('2026-01-01T00:00:00.000Z|12')],
    ['a second spelling of an id (padding)', `${toGlobalId('User', 1)}=`],
    ['a second spelling of an id (a stray character)', `!${toGlobalId('User', 1)}`],
  ])('refuses %s as BAD_USER_INPUT naming the argument', (_case, globalId) => {
    const error = errorOf(() => fromGlobalId(globalId, 'input.conversationId'));
    expect(error.extensions.code).toBe('BAD_USER_INPUT');
    expect(error.extensions.field).toBe('input.conversationId');
    expect(error.message).toContain(JSON.stringify(globalId));
  });
});

describe('idOfType', () => {
  it('returns integer ids of users and conversations as numbers, message ids as strings', () => {
    expect(idOfType(toGlobalId('User', 12), 'User', 'id')).toBe(12);
    expect(idOfType(toGlobalId('Conversation', 34), 'Conversation', 'id')).toBe(34);
    expect(idOfType(toGlobalId('Message', '9007199254740993'), 'Message', 'id')).toBe('9007199254740993');
  });

  it.each<[NodeType, NodeType]>([
    ['Message', 'Conversation'],
    ['User', 'Conversation'],
    ['Conversation', 'Message'],
    ['Conversation', 'User'],
    ['User', 'UserStats'],
    ['UserStats', 'User'],
  ])('refuses the id of a %s where a %s is expected', (given, expected) => {
    const error = errorOf(() => idOfType(toGlobalId(given, given === 'Message' ? '5' : 5), expected as 'User', 'id'));
    expect(error.extensions.code).toBe('BAD_USER_INPUT');
    expect(error.extensions.field).toBe('id');
    expect(error.message).toContain(`expected the id of a ${expected}, got the id of a ${given}`);
  });

  it.each<[NodeType, string]>([
    ['User', '2147483648'],
    ['Conversation', '9999999999'],
    ['Message', '9223372036854775808'],
    ['UserStats', '2147483648'],
  ])('refuses a %s id beyond its column (%s) as BAD_USER_INPUT', (type, id) => {
    const globalId = raw(`${type}:${id}`);
    const error = errorOf(() => idOfType(globalId, type as 'User', 'id'));
    expect(error.extensions.code).toBe('BAD_USER_INPUT');
    expect(error.extensions.field).toBe('id');
  });

  it('accepts the largest id of each column', () => {
    expect(idOfType(raw('User:2147483647'), 'User', 'id')).toBe(2_147_483_647);
    expect(idOfType(raw('Conversation:2147483647'), 'Conversation', 'id')).toBe(2_147_483_647);
    expect(idOfType(raw('Message:9223372036854775807'), 'Message', 'id')).toBe('9223372036854775807');
  });
});

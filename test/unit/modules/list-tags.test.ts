// List tags (cache/entity-tags.ts ListTags): every list field of the schema
// has one, so the response cache drops an answer holding a list when a
// write changes that list; and each is declared by the domain that
// resolves its field.
import { getNamedType, getNullableType, isListType, isObjectType, type GraphQLSchema } from 'graphql';
import { buildSchema } from '../../../src/app/schema.js';
import { domains, listTags } from '../../../src/modules/resolvers.js';

const schema = buildSchema();

/** A connection's own parts (edges, nodes, pageInfo) belong to the field that returns the connection. */
const isConnectionPart = (typeName: string) => /(Connection|Edge)$/.test(typeName);

/** `Type.field` of each field that returns a list or a connection, on the types a cached answer can hold (query results). */
function listFields(of: GraphQLSchema): string[] {
  const rootsNeverCached = [of.getMutationType()?.name, of.getSubscriptionType()?.name];
  return Object.values(of.getTypeMap())
    .filter((type) => isObjectType(type) && !type.name.startsWith('__') && !rootsNeverCached.includes(type.name) && !isConnectionPart(type.name))
    .flatMap((type) =>
      Object.values((type as ReturnType<GraphQLSchema['getQueryType']> & object).getFields())
        .filter((field) => isListType(getNullableType(field.type)) || getNamedType(field.type).name.endsWith('Connection'))
        .map((field) => `${type.name}.${field.name}`),
    );
}

describe('list tags', () => {
  it('finds the list fields of the schema (the check is not vacuous)', () => {
    expect(listFields(schema)).toEqual(
      expect.arrayContaining(['User.conversations', 'Conversation.participants', 'Conversation.messages', 'Conversation.recentMessages', 'Query.leaderboard']),
    );
  });

  it('gives every list field of the schema a tag', () => {
    expect(listFields(schema).filter((field) => !Object.hasOwn(listTags, field))).toEqual([]);
  });

  it('would notice a list field without a tag', () => {
    const { 'Conversation.participants': _dropped, ...fewer } = listTags;
    expect(listFields(schema).filter((field) => !Object.hasOwn(fewer, field))).toEqual(['Conversation.participants']);
  });

  it('tags only fields the schema has, each declared once, by the domain that resolves the field', () => {
    const declared = domains.flatMap((domain) =>
      Object.keys(domain.listTags).map((key) => {
        const [typeName, fieldName] = key.split('.') as [string, string];
        const type = schema.getType(typeName);
        const resolved = (domain.resolvers as Record<string, Record<string, unknown> | undefined>)[typeName]?.[fieldName] !== undefined;
        return { key, inSchema: isObjectType(type) && fieldName in type.getFields(), resolvedBy: resolved ? domain.name : 'another domain' };
      }),
    );
    expect(declared.filter(({ inSchema, resolvedBy }) => !inSchema || resolvedBy === 'another domain')).toEqual([]);
    expect(new Set(declared.map(({ key }) => key)).size).toBe(declared.length);
    expect(Object.keys(listTags).sort()).toEqual(declared.map(({ key }) => key).sort());
  });

  it("names each list's tag from the entity it sits on", () => {
    expect(listTags['User.conversations']!('7', 3)).toBe('Inbox:7');
    expect(listTags['Conversation.messages']!('12', 3)).toBe('Messages:12');
    expect(listTags['Conversation.recentMessages']!('12', 3)).toBe('Messages:12');
    expect(listTags['Conversation.participants']!('12', 3)).toBe('Conversation:12');
    expect(listTags['Query.leaderboard']!(undefined, 3)).toBe('Leaderboard');
    expect(listTags['User.stats']!('7', 3)).toBe('Stats');
    // No entity id to read: no tag (the answer is then not stored).
    expect(listTags['User.conversations']!(undefined, 3)).toBeUndefined();
  });

  it("names a search's tag from its viewer: the list is theirs", () => {
    expect(listTags['Query.searchMessages']!(undefined, 7)).toBe('Search:7');
    expect(listTags['Query.searchMessages']!(undefined, undefined)).toBeUndefined();
  });
});

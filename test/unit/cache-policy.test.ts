// Every field an answer can include has a cache policy (@cacheControl on
// the field or on its type), and the scopes docs/design.md names are the ones the
// schema declares: a field added without a policy fails here.
import { makeExecutableSchema } from '@graphql-tools/schema';
import { getNamedType, isInterfaceType, isObjectType, type GraphQLSchema } from 'graphql';
import { readCachePolicies } from '../../src/graphql/cache-policy.js';
import { buildSchema, readTypeDefs } from '../../src/app/schema.js';

const schema = buildSchema();
const policies = readCachePolicies(schema);

/** `Type.field` of every field reachable from Query (what a cached answer may include) that has no policy. */
function fieldsWithoutPolicy(target: GraphQLSchema): string[] {
  const found = readCachePolicies(target);
  const missing: string[] = [];
  const seen = new Set<string>();
  const visit = (typeName: string) => {
    if (seen.has(typeName)) return;
    seen.add(typeName);
    const type = target.getType(typeName);
    if (!isObjectType(type) && !isInterfaceType(type)) return;
    if (isInterfaceType(type)) for (const implementation of target.getPossibleTypes(type)) visit(implementation.name);
    for (const field of Object.values(type.getFields())) {
      if (!found.field(type.name, field.name)) missing.push(`${type.name}.${field.name}`);
      visit(getNamedType(field.type).name);
    }
  };
  visit(target.getQueryType()!.name);
  return missing;
}

describe('cache policies', () => {
  it('cover every field a query can reach', () => {
    expect(fieldsWithoutPolicy(schema)).toEqual([]);
  });

  it('the check catches a field without one (it is not vacuous)', () => {
    const extended = makeExecutableSchema({
      typeDefs: [...readTypeDefs(), 'type Gadget { name: String }', 'extend type Query { gadget: Gadget }'],
    });
    expect(fieldsWithoutPolicy(extended)).toEqual(['Gadget.name']);
  });

  it('make leaderboards and public profiles PUBLIC', () => {
    for (const [type, field] of [
      ['Query', 'user'],
      ['Query', 'userByUsername'],
      ['Query', 'leaderboard'],
      ['User', 'displayName'],
      ['User', 'stats'],
      ['UserStats', 'totalMessages'],
      ['LeaderboardConnection', 'edges'],
      ['LeaderboardEntry', 'user'],
    ] as const) {
      expect([`${type}.${field}`, policies.field(type, field)?.scope]).toEqual([`${type}.${field}`, 'PUBLIC']);
    }
  });

  it('make the viewer, its email and conversations, unread counts and everything under Conversation and Message PRIVATE', () => {
    const privateFields = [
      ['Query', 'viewer'],
      ['Query', 'node'],
      ['Query', 'conversation'],
      ['User', 'email'],
      ['User', 'conversations'],
      ['LeaderboardConnection', 'viewerEntry'],
      ...['Conversation', 'ConversationConnection', 'ConversationEdge', 'Message', 'MessageConnection', 'MessageEdge'].flatMap((type) =>
        Object.keys((schema.getType(type) as { getFields(): object }).getFields()).map((field) => [type, field]),
      ),
    ];
    expect(privateFields.map(([type, field]) => `${type}.${field}`)).toContain('Conversation.unreadCount');
    for (const [type, field] of privateFields) {
      expect([`${type}.${field}`, policies.field(type!, field!)?.scope]).toEqual([`${type}.${field}`, 'PRIVATE']);
    }
  });
});

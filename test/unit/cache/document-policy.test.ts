import { getOperationAST, parse } from 'graphql';
import { readCachePolicies } from '../../../src/graphql/cache-policy.js';
import { buildSchema } from '../../../src/app/schema.js';
import { documentPolicy } from '../../../src/cache/document-policy.js';

const schema = buildSchema();
const policies = readCachePolicies(schema);

const policyOf = (source: string) => {
  const document = parse(source);
  return documentPolicy(schema, policies, document, getOperationAST(document)!);
};

describe('documentPolicy', () => {
  it('a public profile is PUBLIC, as long as its shortest-lived part (User 60 s, UserStats 300 s)', () => {
    expect(policyOf('{ user(id: "x") { displayName stats { totalMessages } } }')).toEqual({ maxAge: 60, scope: 'PUBLIC' });
    expect(policyOf('{ leaderboard(metric: XP) { refreshedAt } }')).toEqual({ maxAge: 300, scope: 'PUBLIC' });
  });

  it('anything PRIVATE makes the whole answer PRIVATE', () => {
    expect(policyOf('{ viewer { displayName } }')?.scope).toBe('PRIVATE');
    expect(policyOf('{ user(id: "x") { email } }')?.scope).toBe('PRIVATE');
    expect(policyOf('{ leaderboard(metric: XP) { refreshedAt viewerEntry { rank } } }')?.scope).toBe('PRIVATE');
    // A node's id alone says the node exists: not everyone's to share.
    expect(policyOf('query ($id: ID!) { node(id: $id) { id } }')?.scope).toBe('PRIVATE');
  });

  it('counts fields in fragments and under @skip/@include, whatever the variables', () => {
    expect(
      policyOf(`query ($private: Boolean!) { user(id: "x") { ...Name ... on User { conversations @include(if: $private) { totalCount } } } }
                fragment Name on User { displayName }`)?.scope,
    ).toBe('PRIVATE');
    expect(policyOf('query { user(id: "x") { ...Mail } } fragment Mail on User { email }')?.scope).toBe('PRIVATE');
  });

  it('never caches mutations (no policy) or introspection (maxAge 0)', () => {
    expect(policyOf('mutation { updateProfile(input: {}) { user { id } } }')).toBeUndefined();
    expect(policyOf('{ __schema { queryType { name } } }')?.maxAge).toBe(0);
  });
});

// Operations that could return too much are refused before they run, with
// QUERY_TOO_COMPLEX; what clients really send passes.
import { getIntrospectionQuery } from 'graphql';
import { ConversationHistoryDocument, InboxDocument } from '../../../src/generated/graphql/operations.js';
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { startTestApi, type TestApi } from '../../support/api.js';
import { insertInbox, type InboxFixture } from '../../support/fixtures.js';

let api: TestApi;
let inbox: InboxFixture;
let token: string;

beforeAll(async () => {
  api = await startTestApi({ MAX_QUERY_COST: '50000' });
  inbox = await insertInbox(api.database.pool, { conversations: 3, messagesEach: 3 });
  token = await api.tokenFor(inbox.viewer.id);
});
afterAll(() => api.close());

describe('the query cost limit', () => {
  it('lets the reference inbox (50 × 20) and a history page of 100 through', async () => {
    expect((await api.request(InboxDocument, { conversations: 50, messages: 20 }, { token })).errors).toBeUndefined();
    const history = await api.request(ConversationHistoryDocument, { id: toGlobalId('Conversation', inbox.conversationIds[0]!), first: 100 }, { token });
    expect(history.errors).toBeUndefined();
  });

  it("lets explorers' introspection through: its size is the schema's, not the data's", async () => {
    const query = getIntrospectionQuery({
      descriptions: true,
      inputValueDeprecation: true,
      schemaDescription: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
    });
    const result = await api.request<{ __schema: { types: unknown[] } }>(query);
    expect(result.errors).toBeUndefined();
    expect(result.data!.__schema.types.length).toBeGreaterThan(30);
  });

  it('refuses 100 conversations × 100 messages before running anything', async () => {
    const result = await api.request(InboxDocument, { conversations: 100, messages: 100 }, { token });
    expect(result.status).toBe(400);
    expect(result.data).toBeUndefined();
    expect(result.errors).toHaveLength(1);
    const error = result.errors![0]!;
    expect(error.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'cost', maximum: 50_000 });
    expect((error.extensions as { found: number }).found).toBeGreaterThan(50_000);
    expect(error.message).toMatch(/first\/last/);
    expect(result.statements).toBe(0);
  });

  it('multiplies nested lists: a chain of small pages is refused too', async () => {
    const chain = `query ($id: ID!) { conversation(id: $id) { messages(first: 30) { edges { node { conversation {
      messages(first: 30) { edges { node { conversation { messages(first: 30) { edges { node { body } } } } } } } } } } } } }`;
    const result = await api.request(chain, { id: toGlobalId('Conversation', inbox.conversationIds[0]!) }, { token });
    expect(result.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(result.statements).toBe(0);
  });

  it('counts page sizes given in variables, not only in the document', async () => {
    const query =
      'query ($n: Int) { viewer { conversations(first: $n) { edges { node { messages(first: $n) { edges { node { body createdAt author { displayName username } } } } } } } } }';
    expect((await api.request(query, { n: 10 }, { token })).errors).toBeUndefined();
    expect((await api.request(query, { n: 100 }, { token })).errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
  });
});

describe('cost that bounds SQL work', () => {
  const LEADERBOARD_SQL_FIELDS = '{ leaderboard(metric: XP, first: 0) { viewerEntry { rank } refreshedAt } }';

  it('answers every operation with its cost and the limit in extensions.cost', async () => {
    const answered = await api.request('{ viewer { id } }', {}, { token });
    expect(answered.extensions?.cost).toEqual({ requested: 2, limit: 50_000 });
    const refused = await api.request(InboxDocument, { conversations: 100, messages: 100 }, { token });
    expect(refused.extensions?.cost).toEqual({ requested: (refused.errors![0]!.extensions as { found: number }).found, limit: 50_000 });
    // A resolver's error does not hide the cost of what was asked.
    const failed = await api.request('{ viewer { id conversations(first: 500) { totalCount } } }', {}, { token });
    expect(failed.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(failed.extensions?.cost).toMatchObject({ limit: 50_000 });
  });

  it('answers it with the refusals made once the operation is known too, and with none made before its cost is computed', async () => {
    // Refused after validation, with variables that coerce: the cost was computed.
    const nul = await api.request('query ($u: String!) { userByUsername(username: $u) { id } }', { u: 'a\u0000' }, { token });
    expect({ status: nul.status, cost: nul.extensions?.cost }).toEqual({ status: 400, cost: { requested: 2, limit: 50_000 } });
    const subscription = await api.request('subscription { messageAdded(conversationId: "x") { id } }', {}, { token });
    // A subscription is costed as any operation (it spends its cost on every transport): messageAdded and its id.
    expect({ status: subscription.status, cost: subscription.extensions?.cost }).toEqual({ status: 400, cost: { requested: 2, limit: 50_000 } });
    // Refused by validation (a limit other than cost) or by graphql-js's coercion: nothing was costed.
    // 31 aliases under one root field: over the aliases limit only.
    const aliases = await api.request(`{ viewer { ${Array.from({ length: 31 }, (_unused, index) => `a${index}: id`).join(' ')} } }`, {}, { token });
    expect({
      status: aliases.status,
      limit: (aliases.errors?.[0]?.extensions as { limit?: string } | undefined)?.limit,
      cost: aliases.extensions?.cost,
    }).toEqual({
      status: 400,
      limit: 'aliases',
      cost: undefined,
    });
    const coercion = await api.request('query ($n: Int) { leaderboard(metric: XP, first: $n) { refreshedAt } }', { n: 'many' }, { token });
    expect({ status: coercion.status, cost: coercion.extensions?.cost }).toEqual({ status: 400, cost: undefined });
  });

  it('counts every field that reaches the database at least once, even on an empty page', async () => {
    // leaderboard runs its statement whatever `first` is; viewerEntry and refreshedAt come with it.
    const result = await api.request(LEADERBOARD_SQL_FIELDS, {}, { token });
    expect(result.errors).toBeUndefined();
    expect(result.statements).toBe(1);
    // leaderboard 1 + its fields once: viewerEntry 1 + rank 1, refreshedAt 1 (they were multiplied by 0).
    expect(result.extensions?.cost).toEqual({ requested: 4, limit: 50_000 });
  });

  it('refuses more than 30 aliases before any SQL; 30 pass', async () => {
    const aliased = (count: number) => `{ viewer { ${Array.from({ length: count }, (_unused, index) => `a${index}: stats { totalMessages }`).join(' ')} } }`;
    const thirty = await api.request(aliased(30), {}, { token });
    expect(thirty.errors).toBeUndefined();
    const refused = await api.request(aliased(31), {}, { token });
    expect(refused.status).toBe(400);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'aliases', maximum: 30, found: 31 });
    expect(refused.statements).toBe(0);
  });

  it('refuses 4,800 aliases of leaderboard(first: 0), which would run 4,801 statements, before any (as too many root fields, 20)', async () => {
    const query = `{ ${Array.from({ length: 4_800 }, (_unused, index) => `a${index}: leaderboard(metric: XP, first: 0) { refreshedAt }`).join(' ')} }`;
    const result = await api.request(query, {}, { token });
    expect(result.status).toBe(400);
    expect(result.errors?.map((error) => error.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(result.statements).toBe(0);
  });

  it('counts aliases inside fragments each time the fragment is used', async () => {
    const query = `query { viewer { ...Stats } user(id: "${toGlobalId('User', inbox.viewer.id)}") { ...Stats } }
      fragment Stats on User { ${Array.from({ length: 16 }, (_unused, index) => `a${index}: stats { totalMessages }`).join(' ')} }`;
    const result = await api.request(query, {}, { token });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'aliases', found: 32 });
    expect(result.statements).toBe(0);
  });
});

describe('the root field limit (MAX_QUERY_ROOT_FIELDS)', () => {
  let small: TestApi;
  beforeAll(async () => {
    small = await startTestApi({ MAX_QUERY_ROOT_FIELDS: '3' });
  });
  afterAll(() => small.close());

  it('lets 3 root fields through and refuses 4, aliased or not, before any SQL', async () => {
    expect((await small.request('{ viewer { id } leaderboard(metric: XP) { refreshedAt } __typename }')).errors).toBeUndefined();
    const refused = await small.request(
      '{ viewer { id } leaderboard(metric: XP) { refreshedAt } other: leaderboard(metric: MESSAGES) { refreshedAt } __typename }',
    );
    expect(refused.status).toBe(400);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'rootFields', maximum: 3, found: 4 });
    expect(refused.statements).toBe(0);
  });
});

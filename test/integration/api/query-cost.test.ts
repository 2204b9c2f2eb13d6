// Operations that could return too much are refused before they run, with
// QUERY_TOO_COMPLEX; what clients really send passes.
import { ConversationHistoryDocument, InboxDocument } from '../../../src/generated/graphql/operations.js';
import { toGlobalId } from '../../../src/modules/relay/global-id.js';
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

  it('refuses 100 conversations × 100 messages before running anything', async () => {
    const result = await api.request(InboxDocument, { conversations: 100, messages: 100 }, { token });
    expect(result.status).toBe(400);
    expect(result.data).toBeUndefined();
    expect(result.errors).toHaveLength(1);
    const error = result.errors![0]!;
    expect(error.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', maximumCost: 50_000 });
    expect((error.extensions as { cost: number }).cost).toBeGreaterThan(50_000);
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
    const query = 'query ($n: Int) { viewer { conversations(first: $n) { edges { node { messages(first: $n) { edges { node { body createdAt author { displayName username } } } } } } } } }';
    expect((await api.request(query, { n: 10 }, { token })).errors).toBeUndefined();
    expect((await api.request(query, { n: 100 }, { token })).errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
  });
});

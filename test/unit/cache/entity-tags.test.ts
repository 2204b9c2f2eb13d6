import { buildASTSchema, execute, getOperationAST, parse, print } from 'graphql';
import { InboxDocument } from '../../../src/generated/graphql/operations.js';
import { buildSchema, readTypeDefs } from '../../../src/app/schema.js';
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { collectTags, ID_ALIAS, planTags, TYPE_ALIAS, withIdentityFields } from '../../../src/cache/entity-tags.js';
import { listTags } from '../../../src/modules/resolvers.js';

const schema = buildSchema();

function prepare(source: string) {
  const identity = withIdentityFields(schema, parse(source))!;
  return { ...identity, plan: planTags(schema, identity.document, getOperationAST(identity.document)!, listTags) };
}

const userId = (id: number) => toGlobalId('User', id);
const conversationId = (id: number) => toGlobalId('Conversation', id);
const messageId = (id: number) => toGlobalId('Message', id);

describe('withIdentityFields', () => {
  it('adds an entity’s id only where the client did not select it', () => {
    const selected = prepare('{ viewer { id displayName } }');
    expect(selected.added).toBe(false);
    const viaFragment = prepare('{ viewer { ...Me } } fragment Me on User { id }');
    expect(viaFragment.added).toBe(false);
    const missing = prepare('{ viewer { displayName conversations { edges { node { title } } } } }');
    expect(missing.added).toBe(true);
    expect(print(missing.document)).toContain(`${ID_ALIAS}: id`);
    // Connections and edges are not entities: nothing added there.
    expect(print(missing.document).match(new RegExp(ID_ALIAS, 'g'))).toHaveLength(2);
  });

  it('counts an id that another field merged with it selects, and not one under a directive', () => {
    const merged = prepare(`{ viewer { ...Author conversations { totalCount } } } fragment Author on User { id }`);
    expect(merged.added).toBe(false);
    const siblings = prepare('{ viewer { author: id } viewer { displayName } }');
    expect(siblings.added).toBe(true);
    const inbox = withIdentityFields(schema, InboxDocument)!;
    // Message.author { stats } merges with MessageFields' author { ...UserSummary }, which has the id.
    expect(inbox.added).toBe(false);
    const conditional = prepare('query ($x: Boolean!) { viewer { displayName } viewer @include(if: $x) { id } }');
    expect(conditional.added).toBe(true);
  });

  it('adds the type name, and each entity’s id, at an interface', () => {
    const { document } = prepare('query ($id: ID!) { node(id: $id) { ... on Conversation { title } } }');
    const printed = print(document);
    expect(printed).toContain(`${TYPE_ALIAS}: __typename`);
    for (const type of ['User', 'Conversation', 'Message']) expect(printed).toContain(`... on ${type} {\n      ${ID_ALIAS}: id`);
  });

  it('refuses a document that uses a reserved alias itself', () => {
    expect(withIdentityFields(schema, parse(`{ viewer { ${ID_ALIAS}: username } }`))).toBeUndefined();
  });
});

describe('collectTags', () => {
  it('records each entity and each list read, and removes the fields it added', () => {
    const { plan } = prepare(`{
      viewer {
        displayName
        stats { totalMessages }
        conversations(first: 5) {
          edges { node { title lastMessage { body author { displayName } } messages(first: 1) { edges { node { id } } } } }
        }
      }
    }`);
    const data = {
      viewer: {
        displayName: 'Ann',
        stats: null,
        conversations: {
          edges: [
            {
              node: {
                title: 'T',
                lastMessage: { body: 'hi', author: { displayName: 'Bob', [ID_ALIAS]: userId(8) }, [ID_ALIAS]: messageId(90) },
                messages: { edges: [{ node: { id: messageId(90) } }] },
                [ID_ALIAS]: conversationId(12),
              },
            },
          ],
        },
        [ID_ALIAS]: userId(7),
      },
    };
    expect([...collectTags(data, plan)!].sort()).toEqual(['Conversation:12', 'Inbox:7', 'Message:90', 'Messages:12', 'Stats', 'User:7', 'User:8'].sort());
    expect(JSON.stringify(data)).not.toContain(ID_ALIAS);
    expect(data.viewer.conversations.edges[0]!.node.messages.edges[0]!.node.id).toBe(messageId(90));
  });

  it('tags statistics by their type, wherever they are reached, without asking for their ids', () => {
    const viaUser = prepare('{ user(id: "x") { id stats { totalMessages } } }');
    expect(print(viaUser.document)).not.toContain(ID_ALIAS);
    const viaNode = prepare('query ($id: ID!) { node(id: $id) { ... on UserStats { totalMessages } } }');
    const data = { node: { totalMessages: 3, [TYPE_ALIAS]: 'UserStats' } };
    expect([...collectTags(data, viaNode.plan)!]).toEqual(['Stats']);
    expect(data).toEqual({ node: { totalMessages: 3 } });
  });

  it('reads the concrete type at an interface, and removes the type name it added', () => {
    const { plan } = prepare('query ($id: ID!) { node(id: $id) { ... on Message { body } } }');
    const data = { node: { body: 'x', [TYPE_ALIAS]: 'Message', [ID_ALIAS]: messageId(5) } };
    expect([...collectTags(data, plan)!]).toEqual(['Message:5']);
    expect(data).toEqual({ node: { body: 'x' } });
  });

  it("tags a search with its viewer's search list, and gives up without a viewer", () => {
    const { plan } = prepare('{ searchMessages(query: "fox") { edges { highlight { text } node { body } } } }');
    const data = () => ({ searchMessages: { edges: [{ highlight: [{ text: 'fox' }], node: { body: 'fox', [ID_ALIAS]: messageId(9) } }] } });
    expect([...collectTags(data(), plan, 7)!].sort()).toEqual(['Message:9', 'Search:7']);
    // Even an empty page: a message sent later may match.
    expect([...collectTags({ searchMessages: { edges: [] } }, plan, 7)!]).toEqual(['Search:7']);
    expect(collectTags(data(), plan, undefined)).toBeUndefined();
  });

  it('gives up (the answer is not stored) when an entity has no id it issued, but still removes the added fields', () => {
    const { plan } = prepare('{ viewer { displayName } }');
    const data = { viewer: { displayName: 'x', [ID_ALIAS]: toGlobalId('Conversation', 3) } };
    expect(collectTags(data, plan)).toBeUndefined();
    expect(data).toEqual({ viewer: { displayName: 'x' } });
  });

  it('on a real execution: the client gets what it asked for, and the tags of what it got', async () => {
    // The SDL alone, with graphql-js's default resolvers reading this root value.
    const plainSchema = buildASTSchema(parse(readTypeDefs().join('\n')));
    const author = { __typename: 'User', id: userId(8), displayName: 'Bob' };
    const rootValue = {
      viewer: { __typename: 'User', id: userId(7), displayName: 'Ann' },
      node: { __typename: 'Message', id: messageId(5), body: 'hello', author },
    };
    const source = `query ($id: ID!) {
      viewer { displayName }
      node(id: $id) { ... on Message { body author { displayName } } }
    }`;
    const { document, added, plan } = prepare(source);
    expect(added).toBe(true);
    const expected = await execute({ schema: plainSchema, document: parse(source), rootValue, variableValues: { id: 'x' } });
    const result = await execute({ schema: plainSchema, document, rootValue, variableValues: { id: 'x' } });
    expect(result.errors).toBeUndefined();
    expect([...collectTags(result.data, plan)!].sort()).toEqual(['Message:5', 'User:7', 'User:8']);
    expect(JSON.parse(JSON.stringify(result.data))).toEqual(JSON.parse(JSON.stringify(expected.data)));
  });
});

// clients/cache-updates.ts and the shipped type policies in Apollo Client's
// own InMemoryCache, on the cases a server cannot easily stage: events that
// arrive out of order, a conversation that changed without moving, one that
// belongs below the loaded pages, a page that crosses an update on its way,
// a preview that is full. The same helpers against a real server:
// test/integration/api/apollo-client-inbox.test.ts.
import { InMemoryCache } from '@apollo/client';
import { parse } from 'graphql';
import { addMessage, placeConversationInInbox, removeConversation } from '../../clients/cache-updates.js';
import { possibleTypes, typePolicies } from '../../clients/type-policies.js';

const viewerId = 'viewer';

const INBOX = parse(`
  query Inbox($after: String) {
    viewer { id conversations(first: 3, after: $after) { edges { cursor node { id createdAt lastMessageAt } } pageInfo { hasNextPage endCursor } } }
  }`);

const CONVERSATION = parse(`
  query Conversation($id: ID!, $after: String) {
    conversation(id: $id) {
      id createdAt lastMessageAt lastMessage { id createdAt body }
      recentMessages(first: 2) { id createdAt body }
      messages(first: 2, after: $after) { edges { cursor node { id createdAt body } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
    }
  }`);

interface Conversation {
  __typename: 'Conversation';
  id: string;
  createdAt: string;
  lastMessageAt: string | null;
}

/** Minute `minute` of a day, as the API writes times. */
const at = (minute: number) => new Date(Date.UTC(2026, 5, 1, 0, minute)).toISOString();
const conversation = (id: string, lastMinute: number | null, createdMinute = 0): Conversation => ({
  __typename: 'Conversation',
  id,
  createdAt: at(createdMinute),
  lastMessageAt: lastMinute === null ? null : at(lastMinute),
});

function newCache() {
  return new InMemoryCache({ typePolicies, possibleTypes });
}

/** Writes a page of the inbox as the server would answer it, spliced by the type policy. */
function writePage(cache: InMemoryCache, nodes: Conversation[], { after, hasNextPage }: { after?: string; hasNextPage: boolean }) {
  cache.writeQuery({
    query: INBOX,
    variables: { after },
    data: {
      viewer: {
        __typename: 'User',
        id: viewerId,
        conversations: {
          __typename: 'ConversationConnection',
          edges: nodes.map((node) => ({ __typename: 'ConversationEdge', cursor: `cursor-${node.id}`, node })),
          pageInfo: { __typename: 'PageInfo', hasNextPage, endCursor: `cursor-${nodes[nodes.length - 1]!.id}` },
        },
      },
    },
  });
}

/** A conversation's fields changed in the cache, as a payload or an event writes them. */
function writeConversation(cache: InMemoryCache, node: Conversation) {
  cache.writeFragment({
    id: cache.identify({ __typename: 'Conversation', id: node.id }),
    fragment: parse('fragment Activity on Conversation { id createdAt lastMessageAt }'),
    data: node,
  });
}

function readInbox(cache: InMemoryCache) {
  const data = cache.readQuery<{
    viewer: { conversations: { edges: { cursor: string; node: Conversation }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } };
  }>({ query: INBOX });
  return {
    ids: data!.viewer.conversations.edges.map((edge) => edge.node.id),
    cursors: data!.viewer.conversations.edges.map((edge) => edge.cursor),
    endCursor: data!.viewer.conversations.pageInfo.endCursor,
  };
}

function place(cache: InMemoryCache, node: Conversation) {
  writeConversation(cache, node);
  placeConversationInInbox(cache, { viewerId, conversation: node });
}

describe('placeConversationInInbox', () => {
  it('places by last activity, whatever order the events come in', () => {
    const cache = newCache();
    writePage(cache, [conversation('a', 30), conversation('b', 20), conversation('c', 10)], { hasNextPage: true });
    // c then b got messages, at minutes 50 and 40; b's event arrives first.
    place(cache, conversation('b', 40));
    place(cache, conversation('c', 50));
    expect(readInbox(cache).ids).toEqual(['c', 'b', 'a']);
    // An event for an older message of b, late: b stays below c.
    place(cache, conversation('b', 45));
    expect(readInbox(cache).ids).toEqual(['c', 'b', 'a']);
  });

  it('leaves a conversation whose activity did not change where it is, with its cursor', () => {
    const cache = newCache();
    writePage(cache, [conversation('a', 30), conversation('b', 20), conversation('c', 10)], { hasNextPage: true });
    place(cache, conversation('c', 10));
    expect(readInbox(cache)).toEqual({ ids: ['a', 'b', 'c'], cursors: ['cursor-a', 'cursor-b', 'cursor-c'], endCursor: 'cursor-c' });
  });

  it('moves an edge without its cursor, so the next page is appended at the end, not behind it', () => {
    const cache = newCache();
    writePage(cache, [conversation('a', 30), conversation('b', 20), conversation('c', 10)], { hasNextPage: true });
    place(cache, conversation('c', 60));
    expect(readInbox(cache)).toEqual({ ids: ['c', 'a', 'b'], cursors: ['', 'cursor-a', 'cursor-b'], endCursor: 'cursor-c' });
    writePage(cache, [conversation('d', 5), conversation('e', 4), conversation('f', 3)], { after: 'cursor-c', hasNextPage: false });
    expect(readInbox(cache).ids).toEqual(['c', 'a', 'b', 'd', 'e', 'f']);
  });

  it('adds a missing conversation on top, and one that falls below the loaded pages only when no page follows', () => {
    const cache = newCache();
    writePage(cache, [conversation('a', 30), conversation('b', 20), conversation('c', 10)], { hasNextPage: true });
    place(cache, conversation('new', null, 70));
    place(cache, conversation('old', 5));
    expect(readInbox(cache).ids).toEqual(['new', 'a', 'b', 'c']);
    writePage(cache, [conversation('old', 5), conversation('d', 4)], { after: 'cursor-c', hasNextPage: false });
    place(cache, conversation('older', 1));
    expect(readInbox(cache).ids).toEqual(['new', 'a', 'b', 'c', 'old', 'd', 'older']);
  });

  it('lists a conversation once when a page read before it moved brings it again', () => {
    const cache = newCache();
    writePage(cache, [conversation('a', 30), conversation('b', 20), conversation('c', 10)], { hasNextPage: true });
    // d, on the next page, gets a message while that page is on its way: the page still has it at its old place.
    place(cache, conversation('d', 60));
    writePage(cache, [conversation('d', 5), conversation('e', 4)], { after: 'cursor-c', hasNextPage: false });
    expect(readInbox(cache).ids).toEqual(['d', 'a', 'b', 'c', 'e']);
  });

  it('does nothing without a cached inbox', () => {
    const cache = newCache();
    place(cache, conversation('a', 30));
    expect(cache.extract()['User:viewer']).toBeUndefined();
  });
});

describe('addMessage', () => {
  const message = (id: string, minute: number) => ({ __typename: 'Message' as const, id, createdAt: at(minute), body: `body ${id}` });

  function writeConversationPage(cache: InMemoryCache, { hasPreviousPage }: { hasPreviousPage: boolean }) {
    const [m2, m1] = [message('m2', 20), message('m1', 10)];
    cache.writeQuery({
      query: CONVERSATION,
      variables: { id: 'a' },
      data: {
        conversation: {
          ...conversation('a', 20),
          lastMessage: m2,
          recentMessages: [m2, m1],
          messages: {
            __typename: 'MessageConnection',
            edges: [m2, m1].map((node) => ({ __typename: 'MessageEdge', cursor: `cursor-${node.id}`, node })),
            pageInfo: { __typename: 'PageInfo', hasNextPage: false, hasPreviousPage, startCursor: 'cursor-m2', endCursor: 'cursor-m1' },
          },
        },
      },
    });
  }

  function readConversation(cache: InMemoryCache) {
    const data = cache.readQuery<{
      conversation: {
        lastMessageAt: string;
        lastMessage: { id: string };
        recentMessages: { id: string }[];
        messages: { edges: { cursor: string; node: { id: string } }[] };
      };
    }>({ query: CONVERSATION, variables: { id: 'a' } })!.conversation;
    return {
      history: data.messages.edges.map((edge) => `${edge.node.id}@${edge.cursor}`),
      preview: data.recentMessages.map((item) => item.id),
      last: data.lastMessage.id,
      lastMessageAt: data.lastMessageAt,
    };
  }

  function receive(cache: InMemoryCache, item: ReturnType<typeof message>, cursor?: string) {
    cache.writeFragment({ id: cache.identify(item), fragment: parse('fragment Received on Message { id createdAt body }'), data: item });
    addMessage(cache, { viewerId, message: { ...item, cursor, conversation: { id: 'a' } } });
  }

  it('puts a new message atop the history and the preview (kept to its size), once, as the last message', () => {
    const cache = newCache();
    writeConversationPage(cache, { hasPreviousPage: false });
    receive(cache, message('m3', 30), 'cursor-m3');
    receive(cache, message('m3', 30), 'cursor-m3');
    expect(readConversation(cache)).toEqual({
      history: ['m3@cursor-m3', 'm2@cursor-m2', 'm1@cursor-m1'],
      preview: ['m3', 'm2'],
      last: 'm3',
      lastMessageAt: at(30),
    });
  });

  it('places a late older message below a newer one and keeps the newer as the last message', () => {
    const cache = newCache();
    writeConversationPage(cache, { hasPreviousPage: false });
    receive(cache, message('m4', 40));
    receive(cache, message('m3', 30));
    expect(readConversation(cache)).toEqual({
      history: ['m4@', 'm3@', 'm2@cursor-m2', 'm1@cursor-m1'],
      preview: ['m4', 'm3'],
      last: 'm4',
      lastMessageAt: at(40),
    });
  });

  it('leaves a history alone that has newer messages not read yet (the message would sit behind a gap)', () => {
    const cache = newCache();
    writeConversationPage(cache, { hasPreviousPage: true });
    receive(cache, message('m3', 30));
    expect(readConversation(cache)).toMatchObject({ history: ['m2@cursor-m2', 'm1@cursor-m1'], preview: ['m3', 'm2'], last: 'm3' });
  });

  it('moves the conversation up in the inbox when the inbox lists it, and never adds it', () => {
    const cache = newCache();
    writePage(cache, [conversation('b', 25), conversation('a', 20)], { hasNextPage: true });
    writeConversationPage(cache, { hasPreviousPage: false });
    receive(cache, message('m3', 30));
    expect(readInbox(cache).ids).toEqual(['a', 'b']);

    const other = newCache();
    writePage(other, [conversation('b', 25), conversation('c', 22)], { hasNextPage: true });
    writeConversationPage(other, { hasPreviousPage: false });
    receive(other, message('m3', 30));
    expect(readInbox(other).ids).toEqual(['b', 'c']);
  });
});

describe('removeConversation', () => {
  it('takes the conversation out of the inbox and the cache; the next page still follows the endCursor', () => {
    const cache = newCache();
    writePage(cache, [conversation('a', 30), conversation('b', 20), conversation('c', 10)], { hasNextPage: true });
    removeConversation(cache, { viewerId, conversationId: 'c' });
    expect(readInbox(cache)).toEqual({ ids: ['a', 'b'], cursors: ['cursor-a', 'cursor-b'], endCursor: 'cursor-c' });
    expect(cache.extract()['Conversation:c']).toBeUndefined();
    writePage(cache, [conversation('d', 5)], { after: 'cursor-c', hasNextPage: false });
    expect(readInbox(cache).ids).toEqual(['a', 'b', 'd']);
  });
});

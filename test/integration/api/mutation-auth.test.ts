// Every mutation needs a signed-in user: without a token, or with one that is
// malformed, forged, unsigned or expired, it answers UNAUTHENTICATED (status
// 200, no stack trace) and writes nothing. The same request with a valid
// token succeeds, so it is the token that was refused.
import { SignJWT } from 'jose';
import { parse, type DocumentNode } from 'graphql';
import {
  CreateConversationDocument,
  EditMessageDocument,
  MarkConversationReadDocument,
  SendMessageDocument,
  UpdateProfileDocument,
} from '../../../src/generated/graphql/operations.js';
import { createAuth } from '../../../src/graphql/auth.js';
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { TEST_JWT_SECRET, type RequestOptions } from '../../support/api.js';
import { snapshotTables } from '../../support/assertions.js';
import { insertConversation, insertMessages, insertUser } from '../../support/fixtures.js';
import { api, minutesAgo, pool, useMutationApi } from '../../support/mutation-api.js';

useMutationApi();

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const secret = new TextEncoder().encode(TEST_JWT_SECRET);

/** Ways to call without a valid token for `userId`, each as request options. */
const badCredentials: [string, (userId: number) => Promise<RequestOptions>][] = [
  ['no Authorization header', async () => ({})],
  ['a token that is not a JWT', async () => ({ token: 'not-a-jwt' })],
  ['an empty bearer token', async () => ({ headers: { authorization: 'Bearer ' } })],
  ['a valid token under another scheme', async (userId) => ({ headers: { authorization: `Token ${await api.tokenFor(userId)}` } })],
  [
    'a token signed with another secret',
    async (userId) => ({ token: await createAuth({ secret: 'another-secret-0123456789abcdefgh', ttlSeconds: 3600 }).issueToken(userId) }),
  ],
  [
    'a token whose signature was altered',
    async (userId) => {
      const [header, payload, signature] = (await api.tokenFor(userId)).split('.');
      return { token: `${header}.${payload}.${signature!.startsWith('A') ? 'B' : 'A'}${signature!.slice(1)}` };
    },
  ],
  [
    'a token whose subject was swapped',
    async (userId) => {
      const [header, , signature] = (await api.tokenFor(userId)).split('.');
      return { token: `${header}.${base64url({ sub: String(userId + 1), iat: Math.floor(Date.now() / 1000) })}.${signature}` };
    },
  ],
  ['an unsigned token (alg none)', async (userId) => ({ token: `${base64url({ alg: 'none' })}.${base64url({ sub: String(userId) })}.` })],
  [
    'an expired token',
    async (userId) => {
      const now = Math.floor(Date.now() / 1000);
      return {
        token: await new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject(String(userId))
          .setIssuedAt(now - 7200)
          .setExpirationTime(now - 3600)
          .sign(secret),
      };
    },
  ],
  [
    'a token whose subject is not a user id',
    async () => ({ token: await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('admin').setIssuedAt().setExpirationTime('1h').sign(secret) }),
  ],
];

interface Case {
  /** One of the generated mutation documents; its variables below. */
  document: DocumentNode;
  variables: Record<string, unknown>;
  /** Who the request would act as with a valid token. */
  userId: number;
}

/**
 * A request per mutation that a valid token makes write something, and the
 * code it answers to a valid token of a user who no longer exists: that user
 * takes part in no conversation (NOT_FOUND), and cannot create or update
 * anything (UNAUTHENTICATED, as Query.viewer is null for them).
 */
const mutations: [string, () => Promise<Case>, string][] = [
  [
    'sendMessage',
    async () => {
      const [alice, bob] = [await insertUser(pool, 'SendA'), await insertUser(pool, 'SendB')];
      const conversationId = await insertConversation(pool, { participants: [alice.id, bob.id], createdAt: minutesAgo(60) });
      return { document: SendMessageDocument, variables: { conversationId: toGlobalId('Conversation', conversationId), body: 'hello' }, userId: alice.id };
    },
    'NOT_FOUND',
  ],
  [
    'editMessage',
    async () => {
      const [alice, bob] = [await insertUser(pool, 'EditA'), await insertUser(pool, 'EditB')];
      const conversationId = await insertConversation(pool, { participants: [alice.id, bob.id], createdAt: minutesAgo(60) });
      const [messageId] = await insertMessages(pool, conversationId, [{ authorId: alice.id, body: 'original', at: minutesAgo(30) }]);
      return { document: EditMessageDocument, variables: { messageId: toGlobalId('Message', messageId!), body: 'edited' }, userId: alice.id };
    },
    'NOT_FOUND',
  ],
  [
    'markConversationRead',
    async () => {
      const [alice, bob] = [await insertUser(pool, 'MarkA'), await insertUser(pool, 'MarkB')];
      const conversationId = await insertConversation(pool, { participants: [alice.id, bob.id], createdAt: minutesAgo(60) });
      await insertMessages(pool, conversationId, [{ authorId: alice.id, at: minutesAgo(30) }]);
      return { document: MarkConversationReadDocument, variables: { conversationId: toGlobalId('Conversation', conversationId) }, userId: bob.id };
    },
    'NOT_FOUND',
  ],
  [
    'createConversation',
    async () => {
      const [alice, bob] = [await insertUser(pool, 'CreateA'), await insertUser(pool, 'CreateB')];
      return { document: CreateConversationDocument, variables: { participantIds: [toGlobalId('User', bob.id)] }, userId: alice.id };
    },
    'UNAUTHENTICATED',
  ],
  [
    'leaveConversation',
    async () => {
      const [alice, bob, carol] = [await insertUser(pool, 'LeaveA'), await insertUser(pool, 'LeaveB'), await insertUser(pool, 'LeaveC')];
      const conversationId = await insertConversation(pool, { participants: [alice.id, bob.id, carol.id], title: 'Group', createdAt: minutesAgo(60) });
      return {
        document: parse('mutation Leave($conversationId: ID!) { leaveConversation(input: { conversationId: $conversationId }) { conversationId } }'),
        variables: { conversationId: toGlobalId('Conversation', conversationId) },
        userId: carol.id,
      };
    },
    'NOT_FOUND',
  ],
  [
    'renameConversation',
    async () => {
      const [alice, bob, carol] = [await insertUser(pool, 'RenameA'), await insertUser(pool, 'RenameB'), await insertUser(pool, 'RenameC')];
      const conversationId = await insertConversation(pool, { participants: [alice.id, bob.id, carol.id], title: 'Group', createdAt: minutesAgo(60) });
      return {
        document: parse(
          'mutation Rename($conversationId: ID!) { renameConversation(input: { conversationId: $conversationId, title: "Renamed" }) { conversation { id } } }',
        ),
        variables: { conversationId: toGlobalId('Conversation', conversationId) },
        userId: bob.id,
      };
    },
    'NOT_FOUND',
  ],
  [
    'updateProfile',
    async () => {
      const alice = await insertUser(pool, 'ProfileA');
      return { document: UpdateProfileDocument, variables: { displayName: 'Renamed', avatarUrl: null }, userId: alice.id };
    },
    'UNAUTHENTICATED',
  ],
];

let ghostId: number;
beforeAll(async () => {
  const ghost = await insertUser(pool, 'Ghost');
  await pool.query('DELETE FROM users WHERE id = $1', [ghost.id]);
  ghostId = ghost.id;
});

describe.each(mutations)('%s', (name, prepare, ghostCode) => {
  let prepared: Case;
  beforeAll(async () => {
    prepared = await prepare();
  });

  it.each(badCredentials)(`answers UNAUTHENTICATED to %s and writes nothing`, async (_how, credentials) => {
    const before = await snapshotTables(pool);
    const result = await api.request(prepared.document, prepared.variables, await credentials(prepared.userId));
    expect(result.status).toBe(200);
    expect(result.data).toBeNull();
    expect(result.errors).toHaveLength(1);
    const error = result.errors![0]!;
    expect(error.extensions?.code).toBe('UNAUTHENTICATED');
    expect(error.extensions?.stacktrace).toBeUndefined();
    expect(error.path).toEqual([name]);
    expect(await snapshotTables(pool)).toEqual(before);
  });

  it(`answers ${ghostCode} to a valid token of a user who no longer exists, and writes nothing`, async () => {
    const before = await snapshotTables(pool);
    const result = await api.request(prepared.document, prepared.variables, { token: await api.tokenFor(ghostId) });
    expect(result.status).toBe(200);
    expect(result.data).toBeNull();
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.extensions?.code).toBe(ghostCode);
    expect(result.errors![0]!.extensions?.stacktrace).toBeUndefined();
    expect(await snapshotTables(pool)).toEqual(before);
  });

  it('succeeds and writes with a valid token (the control)', async () => {
    const before = await snapshotTables(pool);
    const result = await api.request(prepared.document, prepared.variables, { token: await api.tokenFor(prepared.userId) });
    expect(result.status).toBe(200);
    expect(result.errors).toBeUndefined();
    expect(result.data).toHaveProperty(name);
    expect(await snapshotTables(pool)).not.toEqual(before);
  });
});

// Hostile input, tokens: forged, expired, of another algorithm, naming no
// user id. Each is a request signed out (viewer null, no statement), never
// an error of the server; fields that need a viewer say UNAUTHENTICATED.
import { SignJWT, UnsecuredJWT } from 'jose';
import { TEST_JWT_SECRET } from '../../support/api.js';
import { graphql, raw, runHostileCases, signToken, startWorld, type Answer, type HostileCase, type World } from '../../support/hostile.js';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.api.close());

const VIEWER = '{ viewer { id } }';
const asViewer = (authorization: (w: World) => Promise<string> | string) => async (w: World) =>
  raw(w, { body: { query: VIEWER }, headers: { authorization: await authorization(w) } });
const bearer = (token: (w: World) => Promise<string>) => asViewer(async (w) => `Bearer ${await token(w)}`);

/** Signed out: viewer null, and the token cost no statement. */
const signedOut = (answer: Answer) => {
  expect(answer.json?.data).toEqual({ viewer: null });
  expect(answer.statements).toBe(0);
};
const now = () => Math.floor(Date.now() / 1000);

const CASES: HostileCase[] = [
  { name: 'expired', send: bearer((w) => signToken({ sub: String(w.member.id), exp: now() - 60 })), status: 200, codes: [], check: signedOut },
  {
    name: 'not valid yet (nbf in an hour)',
    send: bearer((w) => signToken({ sub: String(w.member.id), nbf: now() + 3600 })),
    status: 200,
    codes: [],
    check: signedOut,
  },
  {
    name: 'signed with another secret',
    send: bearer((w) => signToken({ sub: String(w.member.id) }, { secret: 'another-secret-of-at-least-32-characters' })),
    status: 200,
    codes: [],
    check: signedOut,
  },
  {
    name: 'signed with the secret the source once held',
    send: bearer((w) => signToken({ sub: String(w.member.id) }, { secret: 'parley-development-secret-do-not-use-in-production' })),
    status: 200,
    codes: [],
    check: signedOut,
  },
  {
    name: 'alg none',
    send: bearer(async (w) => new UnsecuredJWT({}).setSubject(String(w.member.id)).setExpirationTime('1h').encode()),
    status: 200,
    codes: [],
    check: signedOut,
  },
  {
    name: 'HS512 with the right secret (only HS256 is accepted)',
    send: bearer((w) => signToken({ sub: String(w.member.id) }, { alg: 'HS512' })),
    status: 200,
    codes: [],
    check: signedOut,
  },
  {
    name: 'a header claiming RS256 over an HS256 signature',
    send: bearer(async (w) => {
      const [, payload, signature] = (await signToken({ sub: String(w.member.id) })).split('.');
      return `${Buffer.from(JSON.stringify({ alg: 'RS256' })).toString('base64url')}.${payload}.${signature}`;
    }),
    status: 200,
    codes: [],
    check: signedOut,
  },
  {
    name: 'a payload swapped under a valid signature',
    send: bearer(async (w) => {
      const [header, , signature] = (await signToken({ sub: String(w.outsider.id) })).split('.');
      return `${header}.${Buffer.from(JSON.stringify({ sub: String(w.member.id), exp: now() + 3600 })).toString('base64url')}.${signature}`;
    }),
    status: 200,
    codes: [],
    check: signedOut,
  },
  { name: 'subject 0', send: bearer(() => signToken({ sub: '0' })), status: 200, codes: [], check: signedOut },
  { name: 'subject -1', send: bearer(() => signToken({ sub: '-1' })), status: 200, codes: [], check: signedOut },
  { name: 'subject 2^31 (beyond int4)', send: bearer(() => signToken({ sub: '2147483648' })), status: 200, codes: [], check: signedOut },
  { name: 'subject 2^63', send: bearer(() => signToken({ sub: '9223372036854775808' })), status: 200, codes: [], check: signedOut },
  { name: "subject 'abc'", send: bearer(() => signToken({ sub: 'abc' })), status: 200, codes: [], check: signedOut },
  { name: "subject '1e3'", send: bearer(() => signToken({ sub: '1e3' })), status: 200, codes: [], check: signedOut },
  { name: "subject '01' (another spelling of an id)", send: bearer(() => signToken({ sub: '01' })), status: 200, codes: [], check: signedOut },
  { name: "subject ' 1' (another spelling of an id)", send: bearer(() => signToken({ sub: ' 1' })), status: 200, codes: [], check: signedOut },
  { name: 'subject SQL', send: bearer(() => signToken({ sub: '1 OR 1=1' })), status: 200, codes: [], check: signedOut },
  { name: 'no subject', send: bearer(() => signToken({})), status: 200, codes: [], check: signedOut },
  {
    name: 'a subject that is a number, not a string',
    send: bearer(() =>
      new SignJWT({ sub: 1 } as never).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode(TEST_JWT_SECRET)),
    ),
    status: 200,
    codes: [],
    check: signedOut,
  },
  { name: 'not a JWT', send: asViewer(() => 'Bearer not-a-token'), status: 200, codes: [], check: signedOut },
  { name: 'Bearer with nothing after it', send: asViewer(() => 'Bearer '), status: 200, codes: [], check: signedOut },
  { name: 'Basic credentials', send: asViewer(() => `Basic ${Buffer.from('member:password').toString('base64')}`), status: 200, codes: [], check: signedOut },
  { name: 'two tokens in one header', send: asViewer((w) => `Bearer ${w.memberToken} ${w.outsiderToken}`), status: 200, codes: [], check: signedOut },
  { name: 'an 8 KB token', send: asViewer(() => `Bearer ${'a'.repeat(4_000)}.${'b'.repeat(4_000)}.c`), status: 200, codes: [], check: signedOut },
  {
    name: 'a valid token for a user who does not exist: signed out after one lookup',
    send: bearer(() => signToken({ sub: '2147483647' })),
    status: 200,
    codes: [],
    check: (answer) => expect(answer.json?.data).toEqual({ viewer: null }),
  },
  {
    name: 'an expired token on a field that needs a viewer',
    send: async (w) =>
      graphql(
        w,
        'query ($id: ID!) { conversation(id: $id) { title } }',
        { id: w.secretConversation },
        await signToken({ sub: String(w.member.id), exp: now() - 60 }),
      ),
    status: 200,
    codes: ['UNAUTHENTICATED'],
  },
  {
    name: 'a forged token on a mutation',
    send: async (w) =>
      graphql(
        w,
        'mutation { updateProfile(input: { displayName: "Mallory" }) { user { id } } }',
        {},
        await signToken({ sub: String(w.member.id) }, { secret: 'another-secret-of-at-least-32-characters' }),
      ),
    status: 200,
    codes: ['UNAUTHENTICATED'],
  },
  {
    name: 'a beyond-int4 subject on sendMessage',
    send: async (w) =>
      graphql(
        w,
        'mutation ($id: ID!) { sendMessage(input: { conversationId: $id, body: "hi" }) { message { id } } }',
        { id: w.secretConversation },
        await signToken({ sub: '4294967296' }),
      ),
    status: 200,
    codes: ['UNAUTHENTICATED'],
  },
];

describe('hostile input: tokens', () => {
  runHostileCases(CASES, () => world);
});

// Bearer tokens: what verify accepts and refuses, and that remembering a
// verified token never lets it outlive its expiry or stand in for another.
import { jest } from '@jest/globals';
import { SignJWT } from 'jose';
import { createAuth } from '../../../src/graphql/auth.js';

const SECRET = 'a-secret-of-the-tests-0123456789abcdef';

afterEach(() => {
  jest.useRealTimers();
});

it('accepts a token it issued, again and again, with its viewer and expiry', async () => {
  const auth = createAuth({ secret: SECRET, ttlSeconds: 60 });
  const token = await auth.issueToken(42);
  const first = await auth.verify(`Bearer ${token}`);
  expect(first).toEqual({ viewer: { id: 42 }, expiresAt: expect.any(Number) });
  expect(await auth.verify(`bearer ${token}`)).toEqual(first);
  expect(await auth.viewerFromHeader(`Bearer ${token}`)).toEqual({ id: 42 });
});

it('refuses a remembered token once it has expired, as it refuses one it never saw', async () => {
  jest.useFakeTimers({ now: new Date('2026-12-06T12:00:00Z'), doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  const auth = createAuth({ secret: SECRET, ttlSeconds: 60 });
  const token = await auth.issueToken(7);
  expect(await auth.verify(`Bearer ${token}`)).not.toBeNull();
  jest.setSystemTime(new Date('2026-12-06T12:00:59.999Z'));
  expect(await auth.verify(`Bearer ${token}`)).not.toBeNull();
  jest.setSystemTime(new Date('2026-12-06T12:01:00Z'));
  expect(await auth.verify(`Bearer ${token}`)).toBeNull();
  // A fresh instance, which never verified it, agrees.
  expect(await createAuth({ secret: SECRET, ttlSeconds: 60 }).verify(`Bearer ${token}`)).toBeNull();
});

it('remembers nothing that did not verify: a forged token stays refused, and a good one is not confused with it', async () => {
  const auth = createAuth({ secret: SECRET, ttlSeconds: 60 });
  const forged = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('7')
    .setExpirationTime('60s')
    .sign(new TextEncoder().encode('another-secret-0123456789abcdefgh'));
  expect(await auth.verify(`Bearer ${forged}`)).toBeNull();
  expect(await auth.verify(`Bearer ${forged}`)).toBeNull();
  const good = await auth.issueToken(7);
  expect((await auth.verify(`Bearer ${good}`))?.viewer).toEqual({ id: 7 });
  // The same claims under the other key, after the good one was remembered: still refused.
  expect(await auth.verify(`Bearer ${forged}`)).toBeNull();
  // A subject that is not a user id verifies by signature but names nobody.
  const odd = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('01').setExpirationTime('60s').sign(new TextEncoder().encode(SECRET));
  expect(await auth.verify(`Bearer ${odd}`)).toBeNull();
  expect(await auth.verify(`Bearer ${odd}`)).toBeNull();
});

it('refuses what is not a bearer token', async () => {
  const auth = createAuth({ secret: SECRET, ttlSeconds: 60 });
  for (const header of [undefined, '', 'Bearer', 'Basic abc', 'Bearer a b']) expect(await auth.verify(header)).toBeNull();
});

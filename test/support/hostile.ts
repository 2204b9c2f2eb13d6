// Internal: the hostile-input suite's harness. A world (a server on its own
// database, three users, a conversation two of them share) and a table
// runner that holds every case to the same rules: the expected HTTP status
// and error codes, no stack trace or SQL in the answer, nothing written, no
// line at error level in the log, and no SQL sent when the request is refused.
import { SignJWT } from 'jose';
import { toGlobalId } from '../../src/graphql/relay/global-id.js';
import { startTestApi, statementsOf, TEST_JWT_SECRET, type RawRequest, type TestApi } from './api.js';
import { snapshotTables } from './assertions.js';
import { insertConversation, insertMessages, insertUser, refreshStats, type FixtureUser } from './fixtures.js';
import { captureLog, type CapturedLog } from './log.js';

export interface World {
  api: TestApi;
  log: CapturedLog;
  member: FixtureUser;
  otherMember: FixtureUser;
  outsider: FixtureUser;
  memberToken: string;
  otherMemberToken: string;
  outsiderToken: string;
  /** member and otherMember's conversation, as a global id. */
  secretConversation: string;
  /** A message of member's, and one of otherMember's, in it. */
  memberMessage: string;
  otherMemberMessage: string;
}

export async function startWorld(env: Record<string, string> = {}): Promise<World> {
  const log = captureLog();
  // With the response cache on, as in production (startTestApi turns it off):
  // hostile input must be refused the same way on the cache's paths too.
  const api = await startTestApi({ LOG_LEVEL: 'warn', RESPONSE_CACHE: 'on', ...env }, undefined, { logStream: log.stream });
  const db = api.database.pool;
  const member = await insertUser(db, 'Member');
  const otherMember = await insertUser(db, 'OtherMember');
  const outsider = await insertUser(db, 'Outsider');
  const conversationId = await insertConversation(db, { participants: [member.id, otherMember.id], title: 'Secret' });
  const [memberMessage, otherMemberMessage] = await insertMessages(db, conversationId, [
    { authorId: member.id, body: 'the plan', at: new Date('2026-03-01T10:00:00Z') },
    { authorId: otherMember.id, body: 'agreed', at: new Date('2026-03-01T10:01:00Z') },
  ]);
  await refreshStats(db);
  return {
    api,
    log,
    member,
    otherMember,
    outsider,
    memberToken: await api.tokenFor(member.id),
    otherMemberToken: await api.tokenFor(otherMember.id),
    outsiderToken: await api.tokenFor(outsider.id),
    secretConversation: toGlobalId('Conversation', conversationId),
    memberMessage: toGlobalId('Message', memberMessage!),
    otherMemberMessage: toGlobalId('Message', otherMemberMessage!),
  };
}

/** What a case observed. */
export interface Answer {
  status: number;
  text: string;
  json:
    | { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[]; extensions?: Record<string, unknown> }
    | undefined;
  /** The x-sql-statements header: statements the request sent. */
  statements: number;
}

export interface HostileCase {
  name: string;
  send: (world: World) => Promise<Answer>;
  status: number;
  /** The `extensions.code` of each error, in order; [] when the answer has none. */
  codes: string[];
  /** Anything else the answer must show. */
  check?: (answer: Answer, world: World) => void;
}

/** A raw HTTP request to the world's server. */
export async function raw(world: World, request: RawRequest): Promise<Answer> {
  const response = await world.api.send(request);
  return { status: response.status, text: response.text, json: response.json as Answer['json'], statements: statementsOf(response.headers) };
}

/** A GraphQL operation POSTed as JSON, with a bearer token when given. */
export function graphql(world: World, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<Answer> {
  return raw(world, { body: { query, variables }, headers: token ? { authorization: `Bearer ${token}` } : {} });
}

/** A token signed with the test server's secret, with whatever claims and header a forger chooses. */
export function signToken(
  claims: { sub?: string; exp?: number; nbf?: number; [claim: string]: unknown },
  options: { alg?: string; secret?: string } = {},
): Promise<string> {
  const { exp, nbf, ...rest } = claims;
  let jwt = new SignJWT(rest).setProtectedHeader({ alg: options.alg ?? 'HS256' }).setIssuedAt();
  jwt = jwt.setExpirationTime(exp ?? '1h');
  if (nbf !== undefined) jwt = jwt.setNotBefore(nbf);
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}

/** Traces of a stack in an answer: V8 frames, source files, Apollo's stacktrace extension. */
const STACK = /\n\s+at |\bat [\w.<>]+ \(|\.(ts|js|mjs):\d+|node_modules|stacktrace/;
/** Traces of SQL or of PostgreSQL's own errors: statement text, the schema's internal names, error phrases. */
const SQL =
  /\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b|\$\d+::|conversation_participants|user_stats_summary|user_daily_activity|last_message_at|syntax error at|violates|invalid input syntax|invalid byte sequence|out of range for type|duplicate key|relation "|SQLSTATE|22021|22P02|22003/;

/** Runs each case as its own test, under the rules every hostile case keeps. */
export function runHostileCases(cases: HostileCase[], world: () => World): void {
  it.each(cases.map((hostile) => [hostile.name, hostile] as const))('%s', async (_name, hostile) => {
    const { api, log } = world();
    const before = await snapshotTables(api.database.pool);
    const errorsBefore = log.errors().length;
    const answer = await hostile.send(world());
    expect({ status: answer.status, codes: (answer.json?.errors ?? []).map((error) => error.extensions?.code) }).toEqual({
      status: hostile.status,
      codes: hostile.codes,
    });
    expect(answer.text).not.toMatch(STACK);
    expect(answer.text).not.toMatch(SQL);
    if (answer.status >= 400) expect(answer.statements).toBe(0);
    expect(await snapshotTables(api.database.pool)).toEqual(before);
    expect(log.errors().slice(errorsBefore)).toEqual([]);
    hostile.check?.(answer, world());
  });
}

// Hostile input, transport: bodies that are not what they say, other
// methods and content types, sizes past the limit, cross-site requests,
// persisted-query protocol abuse. Each is answered in GraphQL's shape with
// a 4xx and a code, before any SQL.
import { createHash } from 'node:crypto';
import { graphql, raw, runHostileCases, startWorld, type HostileCase, type World } from '../../support/hostile.js';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.api.close());

const QUERY = '{ viewer { id } }';
const json = { 'content-type': 'application/json' };
const preflight = { 'apollo-require-preflight': 'true' };
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const get = (world: World, parameters: Record<string, string>, headers: Record<string, string> = preflight) =>
  raw(world, { method: 'GET', path: `/graphql?${new URLSearchParams(parameters).toString()}`, headers });

const CASES: HostileCase[] = [
  { name: 'a body that is not JSON', send: (w) => raw(w, { body: '{ viewer { id } }', headers: json }), status: 400, codes: ['BAD_REQUEST'] },
  { name: 'truncated JSON', send: (w) => raw(w, { body: '{"query": "{ viewer { id } }"', headers: json }), status: 400, codes: ['BAD_REQUEST'] },
  { name: 'an empty JSON body', send: (w) => raw(w, { body: '', headers: json }), status: 400, codes: ['BAD_REQUEST'] },
  { name: 'JSON null', send: (w) => raw(w, { body: 'null', headers: json }), status: 400, codes: ['BAD_REQUEST'] },
  { name: 'a JSON string', send: (w) => raw(w, { body: JSON.stringify(QUERY), headers: json }), status: 400, codes: ['BAD_REQUEST'] },
  { name: 'a batch (batching is off)', send: (w) => raw(w, { body: [{ query: QUERY }, { query: QUERY }] }), status: 400, codes: ['BAD_REQUEST'] },
  { name: 'no query at all', send: (w) => raw(w, { body: { variables: {} } }), status: 400, codes: ['BAD_REQUEST'] },
  { name: 'an empty query', send: (w) => raw(w, { body: { query: '' } }), status: 400, codes: ['BAD_REQUEST'] },
  { name: 'a query that is a number', send: (w) => raw(w, { body: { query: 42 } }), status: 400, codes: ['BAD_REQUEST'] },
  { name: 'a query that is an object', send: (w) => raw(w, { body: { query: { kind: 'Document' } } }), status: 400, codes: ['BAD_REQUEST'] },
  { name: 'variables that are a string', send: (w) => raw(w, { body: { query: QUERY, variables: '{}' } }), status: 400, codes: ['BAD_REQUEST'] },
  { name: 'variables that are an array', send: (w) => raw(w, { body: { query: QUERY, variables: [1] } }), status: 400, codes: ['BAD_REQUEST'] },
  { name: 'an operation name that is not a string', send: (w) => raw(w, { body: { query: QUERY, operationName: 7 } }), status: 400, codes: ['BAD_REQUEST'] },
  { name: 'extensions that are not an object', send: (w) => raw(w, { body: { query: QUERY, extensions: 'x' } }), status: 400, codes: ['BAD_REQUEST'] },
  {
    name: 'a __proto__ key (prototype poisoning)',
    send: (w) => raw(w, { body: `{"query": ${JSON.stringify(QUERY)}, "__proto__": {"admin": true}}`, headers: json }),
    status: 400,
    codes: ['BAD_REQUEST'],
  },
  {
    name: 'JSON nested 100,000 deep in a variable',
    send: (w) =>
      raw(w, {
        body: `{"query": "query ($u: String!) { userByUsername(username: $u) { id } }", "variables": {"u": ${'['.repeat(100_000)}${']'.repeat(100_000)}}}`,
        headers: json,
      }),
    status: 400,
    codes: ['BAD_USER_INPUT'],
  },
  {
    name: 'a body over 1 MB',
    send: (w) => raw(w, { body: { query: `{ userByUsername(username: "${'a'.repeat(1_100_000)}") { id } }` } }),
    status: 413,
    codes: ['BAD_REQUEST'],
  },
  {
    name: 'text/plain, as a cross-site form could send (CSRF)',
    send: (w) => raw(w, { body: JSON.stringify({ query: QUERY }), headers: { 'content-type': 'text/plain' } }),
    status: 400,
    codes: ['BAD_REQUEST'],
  },
  {
    name: 'a URL-encoded form',
    send: (w) => raw(w, { body: `query=${encodeURIComponent(QUERY)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    status: 415,
    codes: ['BAD_REQUEST'],
  },
  {
    name: 'multipart form data',
    send: (w) =>
      raw(w, {
        body: '--x\r\nContent-Disposition: form-data; name="query"\r\n\r\n{ viewer { id } }\r\n--x--',
        headers: { 'content-type': 'multipart/form-data; boundary=x' },
      }),
    status: 415,
    codes: ['BAD_REQUEST'],
  },
  { name: 'XML', send: (w) => raw(w, { body: '<query/>', headers: { 'content-type': 'application/xml' } }), status: 415, codes: ['BAD_REQUEST'] },
  { name: 'a GET without a preflight header (CSRF)', send: (w) => get(w, { query: QUERY }, {}), status: 400, codes: ['BAD_REQUEST'] },
  {
    name: 'a mutation over GET',
    send: (w) => get(w, { query: 'mutation { updateProfile(input: { displayName: "Mallory" }) { user { id } } }' }),
    status: 405,
    codes: ['BAD_REQUEST'],
  },
  { name: 'a GET without a query', send: (w) => get(w, {}), status: 400, codes: ['BAD_REQUEST'] },
  { name: 'GET variables that are not JSON', send: (w) => get(w, { query: QUERY, variables: '{nope' }), status: 400, codes: ['BAD_REQUEST'] },
  { name: 'PUT', send: (w) => raw(w, { method: 'PUT', body: { query: QUERY } }), status: 405, codes: ['BAD_REQUEST'] },
  { name: 'DELETE', send: (w) => raw(w, { method: 'DELETE', body: { query: QUERY } }), status: 405, codes: ['BAD_REQUEST'] },
  { name: 'DELETE with no body, nor a preflight header (CSRF first)', send: (w) => raw(w, { method: 'DELETE' }), status: 400, codes: ['BAD_REQUEST'] },
  {
    name: 'a persisted-query hash that does not match its query',
    send: (w) => raw(w, { body: { query: QUERY, extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ __typename }') } } } }),
    status: 400,
    codes: ['BAD_REQUEST'],
  },
  {
    name: 'a persisted-query version that does not exist',
    send: (w) => raw(w, { body: { query: QUERY, extensions: { persistedQuery: { version: 9, sha256Hash: sha256(QUERY) } } } }),
    status: 400,
    codes: ['BAD_REQUEST'],
  },
  {
    name: 'a persisted-query hash never registered (the client then sends the query)',
    send: (w) => raw(w, { body: { extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ viewer { username } }') } } } }),
    status: 200,
    codes: ['PERSISTED_QUERY_NOT_FOUND'],
  },
  {
    name: 'a persisted-query hash that is an object (no lookup trick: not found)',
    send: (w) => raw(w, { body: { extensions: { persistedQuery: { version: 1, sha256Hash: { $ne: null } } } } }),
    status: 200,
    codes: ['PERSISTED_QUERY_NOT_FOUND'],
  },
  {
    name: 'a signed-out request that only asks for the viewer (for contrast: answered)',
    send: (w) => graphql(w, QUERY),
    status: 200,
    codes: [],
    check: (answer) => expect(answer.json?.data).toEqual({ viewer: null }),
  },
];

describe('hostile input: transport', () => {
  runHostileCases(CASES, () => world);
});

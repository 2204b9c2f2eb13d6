// A client project's codegen (examples/web-client/codegen.ts) pointed at a
// running Parley rather than at schema/*.graphql: introspection gives the
// same schema, so the typed documents come out identical to the committed
// ones (`graphql-codegen --check` fails on any difference). Run as a client
// project runs it, in its own process.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestApi, type TestApi } from '../support/api.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CODEGEN = fileURLToPath(new URL('../../node_modules/@graphql-codegen/cli/cjs/bin.js', import.meta.url));

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

/** `graphql-codegen --check` of the example with its schema from `schema`; asynchronous, since the server answers from this process. */
function codegenCheck(schema: string): Promise<{ status: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CODEGEN, '--config', 'examples/web-client/codegen.ts', '--check'],
      { cwd: ROOT, env: { ...process.env, PARLEY_SCHEMA: schema }, encoding: 'utf8', timeout: 60_000 },
      (error, stdout, stderr) => resolve({ status: error ? Number(error.code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

describe("the example client's codegen", () => {
  it('generates from the running API exactly what is committed (generated from schema/*.graphql)', async () => {
    const result = await codegenCheck(`${api.url}/graphql`);
    expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: expect.not.stringContaining('stale') });
  });

  it('notices a schema whose types differ (the check is not vacuous)', async () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'parley-schema-'));
    try {
      cpSync(path.join(ROOT, 'schema'), directory, { recursive: true });
      const file = path.join(directory, 'conversations.graphql');
      // A title that can no longer be null: `string | null` becomes `string` in the generated types.
      const changed = readFileSync(file, 'utf8').replace(/(untitled groups\."\n\s+title: String)\n/, '$1!\n');
      expect(changed).toContain('title: String!');
      writeFileSync(file, changed);
      const result = await codegenCheck(path.join(directory, '*.graphql'));
      expect({ status: result.status, output: result.output }).toMatchObject({ status: 1, output: expect.stringContaining('stale') });
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

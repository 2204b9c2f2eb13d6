import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readOrCreateSecret, tokenSecret } from '../../../src/graphql/token-secret.js';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'parley-secret-'));
});
afterEach(() => rm(directory, { recursive: true, force: true }));

describe('readOrCreateSecret', () => {
  it('makes a random secret once, readable by its owner only, in a directory it creates', async () => {
    const file = path.join(directory, 'data', 'jwt-secret');
    const secret = await readOrCreateSecret(file);
    expect(secret).toMatch(/^[\w-]{43}$/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readOrCreateSecret(file)).toBe(secret);
    expect(await readOrCreateSecret(path.join(directory, 'other'))).not.toBe(secret);
  });

  it('gives processes starting together one secret', async () => {
    const file = path.join(directory, 'jwt-secret');
    const secrets = await Promise.all(Array.from({ length: 8 }, () => readOrCreateSecret(file)));
    expect(new Set(secrets).size).toBe(1);
    expect((await readFile(file, 'utf8')).trim()).toBe(secrets[0]);
  });

  it('refuses a file without a real secret, saying how to repair', async () => {
    const file = path.join(directory, 'jwt-secret');
    await writeFile(file, 'short\n');
    await expect(readOrCreateSecret(file)).rejects.toThrow(/holds no secret of at least 32 characters: delete it/);
  });
});

describe('tokenSecret', () => {
  it('is JWT_SECRET when set, touching no file', async () => {
    const file = path.join(directory, 'jwt-secret');
    expect(await tokenSecret({ jwtSecret: 'x'.repeat(32), secretFile: file, tokenTtlSeconds: 60 })).toBe('x'.repeat(32));
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
  });
});

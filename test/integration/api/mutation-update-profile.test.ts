// updateProfile over HTTP: display name and avatar, fields left out kept,
// refused values named, nothing written when one value is refused.
import type pg from 'pg';
import { UpdateProfileDocument } from '../../../src/generated/graphql/operations.js';
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { startTestApi, type TestApi } from '../../support/api.js';
import { expectOneError, expectRefusedBeforeRunning, snapshotTables } from '../../support/assertions.js';
import { insertUser, type FixtureUser } from '../../support/fixtures.js';

let api: TestApi;
let pool: pg.Pool;

beforeAll(async () => {
  api = await startTestApi();
  pool = api.database.pool;
});
afterAll(() => api.close());

async function profileRow(user: FixtureUser) {
  const { rows } = await pool.query<{ display_name: string; avatar_url: string | null; email: string; username: string }>(
    'SELECT display_name, avatar_url, email, username FROM users WHERE id = $1',
    [user.id],
  );
  return rows[0]!;
}

async function update(user: FixtureUser, variables: { displayName?: string | null; avatarUrl?: string | null }) {
  return api.request(UpdateProfileDocument, variables, { token: await api.tokenFor(user.id) });
}

/** A user with a known display name and avatar. */
async function userWithAvatar(name: string): Promise<FixtureUser> {
  const user = await insertUser(pool, name);
  await pool.query('UPDATE users SET avatar_url = $2 WHERE id = $1', [user.id, `https://img.example.com/${user.username}.png`]);
  return user;
}

describe('updateProfile', () => {
  it('trims the display name, keeps the avatar when it is left out, and returns the user', async () => {
    const user = await userWithAvatar('Trim');
    const before = await profileRow(user);
    const result = await update(user, { displayName: '  Ada Lovelace \n' });
    expect(result.status).toBe(200);
    expect(result.errors).toBeUndefined();
    expect(result.data!.updateProfile.user).toMatchObject({
      id: toGlobalId('User', user.id),
      username: user.username,
      displayName: 'Ada Lovelace',
      avatarUrl: before.avatar_url,
    });
    expect(await profileRow(user)).toEqual({ ...before, display_name: 'Ada Lovelace' });
  });

  it('sets an http(s) avatar and keeps the display name when it is left out', async () => {
    const user = await userWithAvatar('Avatar');
    const before = await profileRow(user);
    for (const avatarUrl of ['https://cdn.example.com/a/b.png?size=64', 'http://example.com/pic.jpg', `https://example.com/${'p'.repeat(2000)}`]) {
      const result = await update(user, { avatarUrl });
      expect(result.errors).toBeUndefined();
      expect(result.data!.updateProfile.user).toMatchObject({ avatarUrl, displayName: before.display_name });
      expect(await profileRow(user)).toEqual({ ...before, avatar_url: avatarUrl });
    }
  });

  it('removes the avatar when given null', async () => {
    const user = await userWithAvatar('NoAvatar');
    const before = await profileRow(user);
    expect(before.avatar_url).not.toBeNull();
    const result = await update(user, { avatarUrl: null });
    expect(result.errors).toBeUndefined();
    expect(result.data!.updateProfile.user.avatarUrl).toBeNull();
    expect(await profileRow(user)).toEqual({ ...before, avatar_url: null });
  });

  it('stores the avatar URL without surrounding spaces', async () => {
    const user = await insertUser(pool, 'Spaced');
    const result = await update(user, { avatarUrl: '  https://img.example.com/spaced.png \n' });
    expect(result.errors).toBeUndefined();
    expect(result.data!.updateProfile.user.avatarUrl).toBe('https://img.example.com/spaced.png');
    expect((await profileRow(user)).avatar_url).toBe('https://img.example.com/spaced.png');
  });

  it('changes both at once, and nothing when both are left out', async () => {
    const user = await userWithAvatar('Both');
    const before = await profileRow(user);
    const unchanged = await update(user, {});
    expect(unchanged.errors).toBeUndefined();
    expect(unchanged.data!.updateProfile.user).toMatchObject({ displayName: before.display_name, avatarUrl: before.avatar_url });
    expect(await profileRow(user)).toEqual(before);

    const result = await update(user, { displayName: 'Grace', avatarUrl: 'https://example.com/grace.png' });
    expect(result.errors).toBeUndefined();
    expect(await profileRow(user)).toEqual({ ...before, display_name: 'Grace', avatar_url: 'https://example.com/grace.png' });
  });

  it('accepts a display name of 80 characters, counted as code points', async () => {
    const user = await insertUser(pool, 'Eighty');
    for (const displayName of ['n'.repeat(80), '🦊'.repeat(80), `  ${'m'.repeat(80)}  `]) {
      const result = await update(user, { displayName });
      expect(result.errors).toBeUndefined();
      expect(result.data!.updateProfile.user.displayName).toBe(displayName.trim());
      expect((await profileRow(user)).display_name).toBe(displayName.trim());
    }
  });

  it('shows the user their own email in the payload', async () => {
    const user = await insertUser(pool, 'Email');
    const result = await api.request<{ updateProfile: { user: { id: string; email: string | null; displayName: string } } }>(
      'mutation ($name: String) { updateProfile(input: { displayName: $name }) { user { id email displayName } } }',
      { name: 'Emma' },
      { token: await api.tokenFor(user.id) },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.updateProfile.user).toEqual({
      id: toGlobalId('User', user.id),
      email: (await profileRow(user)).email,
      displayName: 'Emma',
    });
  });

  it("changes no one else's profile", async () => {
    const user = await insertUser(pool, 'Self');
    const bystander = await userWithAvatar('Bystander');
    const before = await profileRow(bystander);
    expect((await update(user, { displayName: 'Changed', avatarUrl: null })).errors).toBeUndefined();
    expect(await profileRow(bystander)).toEqual(before);
  });
});

describe('updateProfile refuses', () => {
  let user: FixtureUser;
  beforeAll(async () => {
    user = await userWithAvatar('Refused');
  });

  async function expectRefused(variables: { displayName?: string | null; avatarUrl?: string | null }, field: string) {
    const before = await snapshotTables(pool);
    expectOneError(await update(user, variables), 'BAD_USER_INPUT', field);
    expect(await snapshotTables(pool)).toEqual(before);
  }

  it.each([
    ['empty', ''],
    ['whitespace-only', ' \t\n\u00a0 '],
    ['81-character', 'n'.repeat(81)],
    ['81-emoji', '🦊'.repeat(81)],
    ['null', null],
  ])('an %s display name, naming input.displayName', async (_name, displayName) => {
    await expectRefused({ displayName }, 'input.displayName');
  });

  it.each([
    ['a relative path', '/avatars/me.png'],
    ['not a URL', 'not a url'],
    ['an empty string', ''],
    ['an ftp URL', 'ftp://example.com/me.png'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['a data: URL', 'data:image/png;base64,AAAA'],
    ['a URL over 2048 characters', `https://example.com/${'p'.repeat(2048)}`],
    ['a URL with a newline (which a URL parser would drop)', 'https://exam\nple.com/a.png'],
  ])('%s as avatar, naming input.avatarUrl', async (_name, avatarUrl) => {
    await expectRefused({ avatarUrl }, 'input.avatarUrl');
  });

  it.each([
    ['displayName', 'a\u0000b'],
    ['avatarUrl', 'https://example.com/a\u0000b.png'],
  ])('a NUL character in %s, before running, naming the variable', async (variable, value) => {
    const before = await snapshotTables(pool);
    expectRefusedBeforeRunning(await update(user, { [variable]: value }), 'BAD_USER_INPUT', `$${variable}`);
    expect(await snapshotTables(pool)).toEqual(before);
  });

  it('both values when one of them is refused', async () => {
    await expectRefused({ displayName: 'Fine name', avatarUrl: 'ftp://example.com/x.png' }, 'input.avatarUrl');
    await expectRefused({ displayName: '   ', avatarUrl: 'https://example.com/fine.png' }, 'input.displayName');
  });
});

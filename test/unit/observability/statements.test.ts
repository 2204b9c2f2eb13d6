import { foldStatement, shortenStatement, tracer, type StatementRecorder } from '../../../src/observability/statements.js';

describe('shortenStatement', () => {
  it('folds whitespace and leaves out a long select list, subqueries in it included', () => {
    const text = `SELECT users.id AS "id", users.username AS "username", users.display_name AS "displayName",
                         (SELECT started_at FROM materialized_view_refreshes ORDER BY started_at DESC LIMIT 1) AS "refreshedAt"
                  FROM users
                  WHERE id = ANY($1::int[])`;
    expect(shortenStatement(text)).toBe('SELECT … FROM users WHERE id = ANY($1::int[])');
  });

  it('keeps a short select list, and quoted FROMs are not its end', () => {
    expect(shortenStatement('SELECT 1 AS "x" FROM t')).toBe('SELECT 1 AS "x" FROM t');
    const quoted = `SELECT 'a FROM b' AS text, "odd FROM name", ${'c, '.repeat(20)}d FROM things WHERE e = $1`;
    expect(shortenStatement(quoted)).toBe('SELECT … FROM things WHERE e = $1');
  });

  it('cuts what is still too long, with an ellipsis', () => {
    const text = `UPDATE users SET ${Array.from({ length: 50 }, (_, index) => `c${index} = $${index + 1}`).join(', ')}`;
    const short = shortenStatement(text);
    expect(short).toHaveLength(200);
    expect(short.endsWith('…')).toBe(true);
    expect(shortenStatement(text, 20)).toBe('UPDATE users SET c0…');
  });

  it('folds without leaving anything out for extensions.sql', () => {
    expect(foldStatement('  SELECT a,\n   b\tFROM t  ')).toBe('SELECT a, b FROM t');
  });
});

describe('tracer', () => {
  it('names the loader while its batch function runs, and records the batch', () => {
    const seen: (string | null)[] = [];
    const batches: [string, number][] = [];
    const recorder: StatementRecorder = { loader: null, statement() {}, batch: (loader, size) => batches.push([loader, size]) };
    const traced = tracer(recorder)('userById', (keys: readonly number[]) => {
      seen.push(recorder.loader);
      return Promise.resolve(keys.map(String));
    });
    void traced([1, 2, 3]);
    expect(seen).toEqual(['userById']);
    expect(recorder.loader).toBeNull();
    expect(batches).toEqual([['userById', 3]]);
  });
});

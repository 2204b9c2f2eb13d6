// What a token bucket promises, asked over HTTP of a server whose buckets are
// in the process or in Redis (rate-limit.test.ts, rate-limit-redis.test.ts):
// a burst up to the capacity, then one more each time a token has flowed
// back, and never more than capacity + refill over any interval, a window's
// boundary included.
import { errorCodes, type TestApi } from './api.js';
import { insertUser } from './fixtures.js';

const RENAME = 'mutation ($n: String) { updateProfile(input: { displayName: $n }) { user { id } } }';
/** Costs 1 point. */
const CHEAPEST = '{ __typename }';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One accepted request: the spend happened between `sent` and `received` (this process's clock, ms). */
interface Accepted {
  sent: number;
  received: number;
}

/**
 * Registers the tests. `start` starts a server with these overrides of the
 * configuration; the window is 2 s, so a token flows back in
 * 2,000 / capacity ms and the tests take a few seconds.
 */
export function bucketBehaviour(start: (env: Record<string, string>) => Promise<TestApi>) {
  const WINDOW_MS = 2_000;

  it('refuses a burst of writes after the capacity, and allows one more once a token has flowed back', async () => {
    const WRITES = 3;
    const api = await start({ RATE_LIMIT_WRITES: String(WRITES), RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_MS / 1000) });
    try {
      const user = await insertUser(api.database.pool, 'Burst');
      const token = await api.tokenFor(user.id);
      for (let index = 1; index <= WRITES; index += 1) expect((await api.request(RENAME, { n: `n${index}` }, { token })).status).toBe(200);
      const refused = await api.request(RENAME, { n: 'over' }, { token });
      expect({ status: refused.status, codes: errorCodes(refused) }).toEqual({ status: 429, codes: ['RATE_LIMITED'] });
      expect(refused.errors![0]!.extensions).toMatchObject({ bucket: 'writes' });
      // Less than one token's refill (667 ms) away: 1 s, rounded up.
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.headers.get('x-ratelimit-writes-remaining')).toBe('0');
      const full = Number(refused.headers.get('x-ratelimit-writes-reset')) - Date.now() / 1000;
      expect(full).toBeGreaterThan(0);
      expect(full).toBeLessThanOrEqual(WINDOW_MS / 1000 + 1);

      await sleep(WINDOW_MS / WRITES + 20);
      const again = await api.request(RENAME, { n: 'refilled' }, { token });
      expect(again.status).toBe(200);
      expect(again.headers.get('x-ratelimit-writes-remaining')).toBe('0');
      // One token flowed back, and it is spent.
      expect((await api.request(RENAME, { n: 'over again' }, { token })).status).toBe(429);
      const { rows } = await api.database.pool.query<{ display_name: string }>('SELECT display_name FROM users WHERE id = $1', [user.id]);
      expect(rows[0]!.display_name).toBe('refilled');
    } finally {
      await api.close();
    }
  });

  it('lets a caller spend at most capacity + refill over any interval, across what would be a window’s boundary', async () => {
    const POINTS = 10;
    const api = await start({ RATE_LIMIT_POINTS: String(POINTS), RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_MS / 1000) });
    try {
      const token = await api.tokenFor((await insertUser(api.database.pool, 'Edge')).id);
      const accepted: Accepted[] = [];
      const send = async () => {
        const sent = Date.now();
        const result = await api.request(CHEAPEST, {}, { token });
        if (result.status === 200) accepted.push({ sent, received: Date.now() });
        else expect(errorCodes(result)).toEqual(['RATE_LIMITED']);
        return result.status;
      };
      const burst = async () => {
        for (let sent = 0; sent < 50 && (await send()) === 200; sent += 1);
      };
      // The classic attack on fixed windows: one request opens a window, a burst
      // just before it ends, another just after. Fixed windows accepted 19 in
      // about 0.4 s; a bucket 10 and what flowed back meanwhile.
      const start = Date.now();
      expect(await send()).toBe(200);
      await sleep(start + WINDOW_MS - 200 - Date.now());
      await burst();
      await sleep(start + WINDOW_MS + 200 - Date.now());
      await burst();

      const perMs = POINTS / WINDOW_MS;
      const over: { first: number; last: number; spent: number; allowed: number }[] = [];
      for (let first = 0; first < accepted.length; first += 1) {
        for (let last = first; last < accepted.length; last += 1) {
          // Spent between the first's sending and the last's answer: the most that interval allows.
          const allowed = POINTS + (accepted[last]!.received - accepted[first]!.sent) * perMs;
          if (last - first + 1 > allowed) over.push({ first, last, spent: last - first + 1, allowed });
        }
      }
      expect(over).toEqual([]);
      // The bucket was full before the first burst: it took the whole capacity.
      expect(accepted.length).toBeGreaterThanOrEqual(POINTS);
    } finally {
      await api.close();
    }
  });
}

// Internal: what a token bucket promises, asked over HTTP of a server whose
// buckets are in the process or in Redis (rate-limit.test.ts,
// rate-limit-redis.test.ts): a burst up to the capacity, then one more each
// time a token has flowed back, and never more than capacity + refill over
// any interval, a window's boundary included. In the process, the buckets
// refill by a clock the tests move on; in Redis, by Redis's, in real time.
import { errorCodes, type TestApi } from './api.js';
import type { TestTime } from './clock.js';
import { insertUser } from './fixtures.js';

const RENAME = 'mutation ($n: String) { updateProfile(input: { displayName: $n }) { user { id } } }';
/** Costs 1 point. */
const CHEAPEST = '{ __typename }';

/** One accepted request: the spend happened between `sent` and `received` (the test's time, ms). */
interface Accepted {
  sent: number;
  received: number;
}

/**
 * Registers the tests. `start` starts a server with these overrides of the
 * configuration, whose buckets refill by `time` (a new one for each test:
 * manualTime() for buckets in the process, realTime for Redis, where the
 * windows are short and the tests take a few seconds).
 */
export function bucketBehaviour(start: (env: Record<string, string>, time: TestTime) => Promise<TestApi>, newTime: () => TestTime) {
  const WINDOW_MS = 2_000;

  it('refuses a burst of writes after the capacity, and allows one more once a token has flowed back', async () => {
    // A token flows back each 3 s: every margin below is seconds, where a request takes a few ms idle
    // and a few hundred on a loaded machine.
    const WRITES = 3;
    const TOKEN_MS = 3_000;
    const time = newTime();
    const api = await start({ RATE_LIMIT_WRITES: String(WRITES), RATE_LIMIT_WINDOW_SECONDS: String((WRITES * TOKEN_MS) / 1000) }, time);
    try {
      const user = await insertUser(api.database.pool, 'Burst');
      const token = await api.tokenFor(user.id);
      // The first write is spent between these two instants; the bucket is empty from the third.
      const firstSent = time.now();
      expect((await api.request(RENAME, { n: 'n1' }, { token })).status).toBe(200);
      const firstReceived = time.now();
      for (let index = 2; index <= WRITES; index += 1) expect((await api.request(RENAME, { n: `n${index}` }, { token })).status).toBe(200);
      const refused = await api.request(RENAME, { n: 'over' }, { token });
      const refusedAfter = time.now() - firstSent;
      // Refused unless a token flowed back since the first write: TOKEN_MS, far more than 4 requests take.
      expect({ status: refused.status, codes: errorCodes(refused), refusedAfter: refusedAfter < TOKEN_MS }).toEqual({
        status: 429,
        codes: ['RATE_LIMITED'],
        refusedAfter: true,
      });
      expect(refused.errors![0]!.extensions).toMatchObject({ bucket: 'writes' });
      // A token's refill (3 s) less what flowed back since the first write, rounded up.
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeLessThanOrEqual(TOKEN_MS / 1000);
      expect(retryAfter).toBeGreaterThanOrEqual(Math.max(1, TOKEN_MS / 1000 - Math.ceil(refusedAfter / 1000)));
      expect(refused.headers.get('x-ratelimit-writes-remaining')).toBe('0');
      const full = Number(refused.headers.get('x-ratelimit-writes-reset')) - time.now() / 1000;
      expect(full).toBeGreaterThan(0);
      expect(full).toBeLessThanOrEqual((WRITES * TOKEN_MS) / 1000 + 1);

      // A token has flowed back once TOKEN_MS have passed since the first write was spent, at the latest since firstReceived.
      await time.pass(firstReceived + TOKEN_MS + 50 - time.now());
      const again = await api.request(RENAME, { n: 'refilled' }, { token });
      expect(again.status).toBe(200);
      expect(again.headers.get('x-ratelimit-writes-remaining')).toBe('0');
      // One token flowed back, and it is spent: the next is refused until 2 × TOKEN_MS after the first write,
      // about 3 s from now. (Fixed windows fail one of the two: if a window's boundary passed during the
      // wait, this one is allowed too; if not, `again` was refused.)
      const overAgain = await api.request(RENAME, { n: 'over again' }, { token });
      expect({ status: overAgain.status, refusedAfter: time.now() - firstSent < 2 * TOKEN_MS }).toEqual({ status: 429, refusedAfter: true });
      const { rows } = await api.database.pool.query<{ display_name: string }>('SELECT display_name FROM users WHERE id = $1', [user.id]);
      expect(rows[0]!.display_name).toBe('refilled');
    } finally {
      await api.close();
    }
  });

  it('lets a caller spend at most capacity + refill over any interval, across what would be a window’s boundary', async () => {
    const POINTS = 10;
    const time = newTime();
    const api = await start({ RATE_LIMIT_POINTS: String(POINTS), RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_MS / 1000) }, time);
    try {
      const token = await api.tokenFor((await insertUser(api.database.pool, 'Edge')).id);
      const accepted: Accepted[] = [];
      const send = async () => {
        const sent = time.now();
        const result = await api.request(CHEAPEST, {}, { token });
        if (result.status === 200) accepted.push({ sent, received: time.now() });
        else expect(errorCodes(result)).toEqual(['RATE_LIMITED']);
        return result.status;
      };
      const burst = async () => {
        for (let sent = 0; sent < 50 && (await send()) === 200; sent += 1);
      };
      // The classic attack on fixed windows: one request opens a window, a burst
      // just before it ends, another just after. Fixed windows accepted 19 in
      // about 0.4 s; a bucket 10 and what flowed back meanwhile.
      const start = time.now();
      expect(await send()).toBe(200);
      await time.pass(start + WINDOW_MS - 200 - time.now());
      await burst();
      await time.pass(start + WINDOW_MS + 200 - time.now());
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

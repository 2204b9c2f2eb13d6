import { bucketStatus, fits, levelAt, msUntil, retryAfterSeconds, take, type Bucket } from '../../../src/rate-limit/token-bucket.js';

// 10 tokens, refilled in full over 2 s: one token each 200 ms.
const bucket: Bucket = { capacity: 10, periodMs: 2_000 };

describe('levelAt', () => {
  it('is full for a caller never seen (or forgotten)', () => {
    expect(levelAt(bucket, undefined, 5_000)).toBe(10);
  });

  it('refills continuously at capacity per period, never above the capacity', () => {
    const state = { tokens: 2, at: 1_000 };
    expect(levelAt(bucket, state, 1_000)).toBe(2);
    expect(levelAt(bucket, state, 1_100)).toBeCloseTo(2.5);
    expect(levelAt(bucket, state, 1_200)).toBe(3);
    expect(levelAt(bucket, state, 2_600)).toBe(10);
    expect(levelAt(bucket, state, 60_000)).toBe(10);
  });

  it('refills nothing when the clock went back', () => {
    expect(levelAt(bucket, { tokens: 4, at: 1_000 }, 900)).toBe(4);
  });
});

describe('take', () => {
  it('takes the cost when the bucket holds it, down to exactly 0', () => {
    expect(take(10, 3)).toBe(7);
    expect(take(3, 3)).toBe(0);
  });

  it('takes nothing when the bucket is short, even by a fraction', () => {
    expect(take(2.5, 3)).toBeUndefined();
    expect(take(0, 1)).toBeUndefined();
  });

  it('lets rounding of the refill pass: 2.9999999999999996 tokens pay for 3', () => {
    expect(take(2.9999999999999996, 3)).toBe(0);
  });
});

describe('waits', () => {
  it('counts the milliseconds until the tokens are there', () => {
    expect(msUntil(bucket, 0, 1)).toBe(200);
    expect(msUntil(bucket, 2.5, 3)).toBeCloseTo(100);
    expect(msUntil(bucket, 5, 3)).toBe(0);
  });

  it('says retry-after in whole seconds, rounded up, at least 1', () => {
    expect(retryAfterSeconds(bucket, 2.5, 3)).toBe(1);
    expect(retryAfterSeconds(bucket, 0, 10)).toBe(2);
    expect(retryAfterSeconds(bucket, 0, 6)).toBe(2);
    expect(retryAfterSeconds(bucket, 0, 5)).toBe(1);
    expect(retryAfterSeconds({ capacity: 60, periodMs: 60_000 }, 0.25, 1)).toBe(1);
    expect(retryAfterSeconds({ capacity: 3, periodMs: 60_000 }, 0, 1)).toBe(20);
  });

  it('waits for a full bucket when the cost is above the capacity, which never fits', () => {
    expect(fits(bucket, 10)).toBe(true);
    expect(fits(bucket, 11)).toBe(false);
    expect(retryAfterSeconds(bucket, 0, 50)).toBe(2);
    expect(retryAfterSeconds(bucket, 10, 50)).toBe(1);
  });
});

describe('bucketStatus', () => {
  it('says the whole tokens left and the time until full', () => {
    expect(bucketStatus(bucket, 7.9)).toEqual({ remaining: 7, msUntilFull: expect.closeTo(420, 6) });
    expect(bucketStatus(bucket, 10)).toEqual({ remaining: 10, msUntilFull: 0 });
    expect(bucketStatus(bucket, 0)).toEqual({ remaining: 0, msUntilFull: 2_000 });
    expect(bucketStatus(bucket, 2.9999999999999996).remaining).toBe(3);
  });
});

describe('over any interval', () => {
  it('lets a greedy caller spend at most capacity + refill: no double budget across a boundary', () => {
    // A caller spending 1 whenever it can, checked every 10 ms for 10 s.
    let state = { tokens: 10, at: 0 };
    const spentAt: number[] = [];
    for (let now = 0; now <= 10_000; now += 10) {
      const after = take(levelAt(bucket, state, now), 1);
      if (after === undefined) continue;
      state = { tokens: after, at: now };
      spentAt.push(now);
    }
    for (let first = 0; first < spentAt.length; first += 1) {
      for (let last = first; last < spentAt.length; last += 1) {
        const elapsed = spentAt[last]! - spentAt[first]!;
        expect(last - first + 1).toBeLessThanOrEqual(bucket.capacity + (elapsed * bucket.capacity) / bucket.periodMs + 1e-9);
      }
    }
    // And the bound is reached: the first burst, then one each 200 ms.
    expect(spentAt.length).toBe(10 + 10_000 / 200);
  });
});

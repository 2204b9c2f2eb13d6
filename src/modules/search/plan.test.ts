import { chooseStrategy, estimateCosts, type SearchEstimates } from './plan.js';

// Viewers and words of the benchmark's 1M-message data set (bench/search.ts).
const heaviest = { messages: 1_000_000, visibleMessages: 82_000, conversations: 2_839 };
const median = { messages: 1_000_000, visibleMessages: 40, conversations: 9 };
const inOneLongConversation = { messages: 1_000_000, visibleMessages: 88_000, conversations: 14 };
const words = { rare: 0.0013, medium: 0.01, common: 0.12 };
const newestPage = 21;
const ranked = 1000;

const choose = (viewer: Omit<SearchEstimates, 'matchShare' | 'needed'>, matchShare: number, needed: number) =>
  chooseStrategy({ ...viewer, matchShare, needed });

describe('chooseStrategy', () => {
  it('finds a rare word through the index, for any viewer with many messages', () => {
    expect(choose(heaviest, words.rare, newestPage)).toBe('index');
    expect(choose(heaviest, words.rare, ranked)).toBe('index');
    expect(choose(inOneLongConversation, words.rare, newestPage)).toBe('index');
  });

  it('walks the timeline for a common word and a viewer in thousands of conversations', () => {
    expect(choose(heaviest, words.common, newestPage)).toBe('timeline');
    expect(choose(heaviest, words.common, ranked)).toBe('timeline');
  });

  it('walks the conversations of a viewer in few of them, whatever the word', () => {
    for (const share of Object.values(words)) expect(choose(median, share, newestPage)).toBe('conversations');
  });

  it('walks for a common word in one long conversation (either walk finds the newest matches at once)', () => {
    expect(choose(inOneLongConversation, words.common, newestPage)).not.toBe('index');
    expect(choose(inOneLongConversation, words.common, ranked)).not.toBe('index');
  });

  it('ranks a medium word’s matches from the index: a walk would read a hundred messages for each', () => {
    expect(choose(heaviest, words.medium, ranked)).toBe('index');
  });

  it('never estimates a strategy at more than its whole table can cost', () => {
    const costs = estimateCosts({ ...heaviest, matchShare: 1e-9, needed: ranked });
    // A walk that finds nothing reads every message of the viewer's once, the timeline every entry once.
    expect(costs.timeline).toBeLessThanOrEqual(1_000_000 * 0.25 + 82_000 * 3);
    expect(Object.values(costs).every(Number.isFinite)).toBe(true);
  });

  it('survives a table without statistics (zero rows known)', () => {
    expect(chooseStrategy({ messages: 0, visibleMessages: 0, conversations: 3, matchShare: 0.005, needed: 21 })).toBe('index');
  });
});

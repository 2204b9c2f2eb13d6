import { chooseStrategy, COSTS, estimateCosts, type SearchEstimates } from '../../../../src/modules/search/plan.js';
import { RANKED_MATCHES, RANKING_EXAMINED } from '../../../../src/modules/search/search.js';

// Viewers and words of the benchmark's data sets (bench/search.ts).
const heaviest = { messages: 1_000_000, visibleMessages: 82_000, conversations: 2_839 };
const heaviestAt5M = { messages: 5_000_000, visibleMessages: 410_000, conversations: 2_839 };
const median = { messages: 1_000_000, visibleMessages: 40, conversations: 9 };
const inOneLongConversation = { messages: 1_000_000, visibleMessages: 88_000, conversations: 14 };
const words = { rare: 0.0013, medium: 0.01, common: 0.12 };
type Viewer = Omit<SearchEstimates, 'matchShare' | 'needed' | 'walkLimit'>;

/** A first page newest first, or a ranking (as searchMessages asks). */
const newest = (viewer: Viewer, matchShare: number): SearchEstimates => ({ ...viewer, matchShare, needed: 21, walkLimit: null });
const ranked = (viewer: Viewer, matchShare: number): SearchEstimates => ({ ...viewer, matchShare, needed: RANKED_MATCHES, walkLimit: RANKING_EXAMINED });

describe('chooseStrategy', () => {
  it('finds a rare word through the index, for any viewer with many messages', () => {
    expect(chooseStrategy(newest(heaviest, words.rare))).toBe('index');
    expect(chooseStrategy(ranked(heaviest, words.rare))).toBe('index');
    expect(chooseStrategy(newest(inOneLongConversation, words.rare))).toBe('index');
    expect(chooseStrategy(ranked(heaviestAt5M, words.rare))).toBe('index');
  });

  it('walks the timeline for a common word and a viewer in thousands of conversations', () => {
    expect(chooseStrategy(newest(heaviest, words.common))).toBe('timeline');
    expect(chooseStrategy(ranked(heaviest, words.common))).toBe('timeline');
    expect(chooseStrategy(newest(heaviest, words.medium))).toBe('timeline');
  });

  it('walks the conversations of a viewer in few of them, whatever the word', () => {
    for (const share of Object.values(words)) {
      expect(chooseStrategy(newest(median, share))).toBe('conversations');
      expect(chooseStrategy(ranked(median, share))).toBe('conversations');
    }
  });

  it('walks for a common word in one long conversation (either walk finds the newest matches at once)', () => {
    expect(chooseStrategy(newest(inOneLongConversation, words.common))).not.toBe('index');
    expect(chooseStrategy(ranked(inOneLongConversation, words.common))).not.toBe('index');
  });

  it('ranks a medium word’s every match from the index while they are few (1M), the newest messages’ once they are many (5M)', () => {
    expect(chooseStrategy(ranked(heaviest, words.medium))).toBe('index');
    expect(chooseStrategy(ranked(heaviestAt5M, words.medium))).toBe('timeline');
  });

  it('bounds a ranking by its walk limit, whatever the word and the viewer', () => {
    const bound = (viewer: Viewer) =>
      RANKING_EXAMINED * (viewer.messages / viewer.visibleMessages) * COSTS.timelineEntry + RANKING_EXAMINED * COSTS.walkedMessage;
    for (const viewer of [heaviest, heaviestAt5M]) {
      for (const share of [1e-6, 0.003, 0.01, 0.03, 0.05, 0.12, 0.5]) {
        const costs = estimateCosts(ranked(viewer, share));
        expect(Math.min(...Object.values(costs))).toBeLessThanOrEqual(bound(viewer));
      }
    }
  });

  it('does not walk per conversation for a ranking over more messages than the walk limit (it cannot keep to it)', () => {
    expect(estimateCosts(ranked(inOneLongConversation, words.common)).conversations).toBe(Infinity);
    expect(estimateCosts(newest(inOneLongConversation, words.common)).conversations).toBeLessThan(Infinity);
  });

  it('never estimates a strategy at more than its whole table can cost', () => {
    const costs = estimateCosts(newest(heaviest, 1e-9));
    // A walk that finds nothing reads every message of the viewer's once, the timeline every entry once.
    expect(costs.timeline).toBeLessThanOrEqual(1_000_000 * COSTS.timelineEntry + 82_000 * COSTS.walkedMessage);
    expect(Object.values(costs).every(Number.isFinite)).toBe(true);
  });

  it('survives a table without statistics (zero rows known)', () => {
    expect(chooseStrategy({ messages: 0, visibleMessages: 0, conversations: 3, matchShare: 0.005, needed: 21, walkLimit: null })).toBe('index');
  });
});

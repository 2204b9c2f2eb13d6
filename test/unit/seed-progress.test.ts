import { createProgressReporter, formatProgressLine } from '../../src/cli/seed/progress.js';

describe('seed progress', () => {
  it('formats one plain line per event: step, units done of total, what was done if said, seconds since the start', () => {
    expect(formatProgressLine({ step: 'messages', done: 400_000, total: 1_000_000, elapsedMs: 3_249 })).toBe('seed: messages 400000/1000000 (3.2 s)');
    expect(formatProgressLine({ step: 'indexes', done: 4, total: 11, detail: 'messages_body_search_idx', elapsedMs: 27_300 })).toBe(
      'seed: indexes 4/11 messages_body_search_idx (27.3 s)',
    );
  });

  it('writes plain lines, no bar, to a stream that is not a terminal (a pipe, a CI log)', () => {
    const written: string[] = [];
    const stream = { isTTY: false, write: (text: string) => written.push(text) } as unknown as NodeJS.WriteStream;
    const reporter = createProgressReporter(stream);
    reporter.update({ step: 'users', done: 50, total: 50, elapsedMs: 120 });
    reporter.update({ step: 'messages', done: 5_000, total: 5_000, elapsedMs: 900 });
    reporter.stop();
    expect(written).toEqual(['seed: users 50/50 (0.1 s)\n', 'seed: messages 5000/5000 (0.9 s)\n']);
  });
});

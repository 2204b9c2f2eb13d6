import { DEFAULT_SEED_OPTIONS, parseSeedArguments, resolveSeedOptions, SEED_USAGE, SeedOptionsError } from '../../src/cli/seed/options.js';

function parseError(argv: string[]): SeedOptionsError {
  try {
    parseSeedArguments(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(SeedOptionsError);
    return error as SeedOptionsError;
  }
  throw new Error(`expected ${JSON.stringify(argv)} to be refused`);
}

describe('parseSeedArguments', () => {
  it('gives the defaults without flags, reset off', () => {
    expect(parseSeedArguments([])).toEqual({ help: false, options: { ...DEFAULT_SEED_OPTIONS, reset: false } });
    expect(DEFAULT_SEED_OPTIONS).toEqual({ users: 1_000, conversations: 5_000, messages: 100_000, seed: 42 });
  });

  it.each([
    [['--users', '10'], { users: 10 }],
    [['--users=7'], { users: 7 }],
    [['--conversations', '20'], { conversations: 20 }],
    [['--messages', '30'], { messages: 30 }],
    [['--seed', '0'], { seed: 0 }],
    [['--seed', '2147483647'], { seed: 2_147_483_647 }],
    [['--reset'], { reset: true }],
  ])('reads %j', (argv, expected) => {
    expect(parseSeedArguments(argv)).toEqual({ help: false, options: { ...DEFAULT_SEED_OPTIONS, reset: false, ...expected } });
  });

  it('reads every flag together, in any order', () => {
    const parsed = parseSeedArguments(['--seed', '7', '--reset', '--messages', '5000', '--conversations', '200', '--users', '50']);
    expect(parsed).toEqual({ help: false, options: { users: 50, conversations: 200, messages: 5_000, seed: 7, reset: true } });
  });

  it.each([
    [['--users', '1'], '--users: expected a whole number ≥ 2 (at most 2147483647), got "1"'],
    [['--users', 'many'], '--users: expected a whole number ≥ 2 (at most 2147483647), got "many"'],
    [['--conversations', '0'], '--conversations: expected a whole number ≥ 1 (at most 2147483647), got "0"'],
    [['--messages', '1.5'], '--messages: expected a whole number ≥ 1 (at most 2147483647), got "1.5"'],
    [['--messages', '1e6'], '--messages: expected a whole number ≥ 1 (at most 2147483647), got "1e6"'],
    [['--messages', '99999999999'], '--messages: expected a whole number ≥ 1 (at most 2147483647), got "99999999999"'],
    [['--seed=-1'], '--seed: expected a whole number ≥ 0 (at most 2147483647), got "-1"'],
    [['--seed', ''], '--seed: expected a whole number ≥ 0 (at most 2147483647), got ""'],
  ])('refuses %j, naming the flag and what it expects', (argv, message) => {
    expect(parseError(argv).message).toBe(message);
  });

  it('refuses a flag without its value', () => {
    expect(parseError(['--users']).message).toBe('--users: expected a value, as in --users 100');
    expect(parseError(['--users', '--reset']).message).toBe('--users: expected a value, as in --users 100, got another flag or a negative number');
    expect(parseError(['--messages', '-5']).message).toMatch(/^--messages: expected a value/);
  });

  it('refuses a value given to --reset', () => {
    expect(parseError(['--reset=yes']).message).toBe('--reset: takes no value');
  });

  it('refuses an unknown flag and lists the valid ones', () => {
    expect(parseError(['--user', '10']).message).toBe('unknown flag --user (expected one of --users, --conversations, --messages, --seed, --reset, --help)');
  });

  it('refuses a value without its flag', () => {
    expect(parseError(['100']).message).toMatch(/^unexpected argument "100": each value follows its flag, as in --users 100/);
  });

  it('answers --help and -h with help, whatever else is given', () => {
    expect(parseSeedArguments(['--help'])).toEqual({ help: true });
    expect(parseSeedArguments(['-h'])).toEqual({ help: true });
    expect(parseSeedArguments(['--users', 'x', '--help'])).toEqual({ help: true });
  });

  it('documents every flag and its default in the usage text', () => {
    for (const flag of ['--users N', '--conversations N', '--messages N', '--seed S', '--reset', '--help']) {
      expect(SEED_USAGE).toContain(flag);
    }
    expect(SEED_USAGE).toContain(`default ${DEFAULT_SEED_OPTIONS.messages}`);
  });
});

describe('resolveSeedOptions', () => {
  it('anchors the timestamps at the start of the current UTC day, so a seed is the same all day', () => {
    const resolved = resolveSeedOptions(DEFAULT_SEED_OPTIONS, new Date('2026-03-04T21:15:00.000Z'));
    expect(resolved).toEqual({ ...DEFAULT_SEED_OPTIONS, reset: false, days: 90, now: new Date('2026-03-04T00:00:00.000Z') });
  });

  it('keeps an anchor and reset given by the caller', () => {
    const now = new Date('2026-01-02T03:04:05.000Z');
    expect(resolveSeedOptions({ ...DEFAULT_SEED_OPTIONS, reset: true, now })).toMatchObject({ reset: true, now });
  });

  it('refuses values a caller could pass without the command line, naming the option', () => {
    expect(() => resolveSeedOptions({ ...DEFAULT_SEED_OPTIONS, users: 1 })).toThrow(
      new SeedOptionsError('users: expected a whole number from 2 to 2147483647, got 1'),
    );
    expect(() => resolveSeedOptions({ ...DEFAULT_SEED_OPTIONS, messages: 0.5 })).toThrow(/^messages: /);
    expect(() => resolveSeedOptions({ ...DEFAULT_SEED_OPTIONS, now: new Date('nope') })).toThrow('now: expected a valid Date');
    expect(() => resolveSeedOptions({ ...DEFAULT_SEED_OPTIONS, days: 0 })).toThrow(
      new SeedOptionsError('days: expected a whole number from 1 to 36500, got 0'),
    );
    expect(resolveSeedOptions({ ...DEFAULT_SEED_OPTIONS, days: 730 })).toMatchObject({ days: 730 });
  });
});

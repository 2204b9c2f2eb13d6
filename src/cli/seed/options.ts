import { parseArgs } from 'node:util';
import { INTEGER_MAX } from '../../db/pool.js';
import { ACTIVITY_WINDOW_DAYS } from './plan.js';

/** What to seed. The same options (including `now`) always produce the same rows. */
export interface SeedOptions {
  /** Number of users, at least 2 (a conversation needs two people). */
  users: number;
  /** Number of conversations, direct and group. */
  conversations: number;
  /** Number of messages, spread over the conversations by a power law. */
  messages: number;
  /** The seed of every random choice: faker's and the SQL hashes'. */
  seed: number;
  /** Truncate the tables first; without it a database holding users is refused. Default false. */
  reset?: boolean;
  /**
   * How many days before `now` conversations and messages fall in. Default
   * 90 (ACTIVITY_WINDOW_DAYS); longer for data that spans many months (the
   * partitioning benchmark's 24).
   */
  days?: number;
  /**
   * The anchor of every timestamp: messages fall in the `days` before it.
   * Default: the start of the current UTC day, so that a seed is identical
   * all day long.
   */
  now?: Date;
}

/** What `npm run db:seed` seeds without flags. */
export const DEFAULT_SEED_OPTIONS: Readonly<SeedOptions> = Object.freeze({
  users: 1_000,
  conversations: 5_000,
  messages: 100_000,
  seed: 42,
});

/** A small set for the embedded database's first start: seeded in a few seconds, enough to click around. */
export const DEMO_SEED_OPTIONS: Readonly<SeedOptions> = Object.freeze({
  users: 50,
  conversations: 120,
  messages: 3_000,
  seed: 42,
});

// Ids are integer columns (messages.id is bigint, but its count comes from
// generate_series over integers here).
const MAX_COUNT = INTEGER_MAX;

/** A value the seed cannot work with; the message names the option and what it expects. */
export class SeedOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeedOptionsError';
  }
}

/** The start of the UTC day holding `date`. */
export function startOfUtcDay(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}

/** Checks the options and fills in the defaults of `reset` and `now`. */
export function resolveSeedOptions(options: SeedOptions, today: Date = new Date()): Required<SeedOptions> {
  const check = (name: keyof SeedOptions, value: number, min: number) => {
    if (!Number.isSafeInteger(value) || value < min || value > MAX_COUNT) {
      throw new SeedOptionsError(`${name}: expected a whole number from ${min} to ${MAX_COUNT}, got ${value}`);
    }
  };
  check('users', options.users, 2);
  check('conversations', options.conversations, 1);
  check('messages', options.messages, 1);
  check('seed', options.seed, 0);
  const days = options.days ?? ACTIVITY_WINDOW_DAYS;
  // At most about a century: a window reaching before 1970 would make negative timestamps of the plan's arithmetic.
  if (!Number.isSafeInteger(days) || days < 1 || days > 36_500) throw new SeedOptionsError(`days: expected a whole number from 1 to 36500, got ${days}`);
  const now = options.now ?? startOfUtcDay(today);
  if (Number.isNaN(now.getTime())) throw new SeedOptionsError('now: expected a valid Date');
  return { ...options, reset: options.reset ?? false, days, now };
}

export const SEED_USAGE = `Usage: npm run db:seed -- [--users N] [--conversations N] [--messages N] [--seed S] [--reset]
       node dist/cli/seed.js [same flags]   (the built tool, as in the container image)

  --users N           users to create (default ${DEFAULT_SEED_OPTIONS.users}, at least 2)
  --conversations N   conversations, direct and group (default ${DEFAULT_SEED_OPTIONS.conversations})
  --messages N        messages (default ${DEFAULT_SEED_OPTIONS.messages})
  --seed S            random seed; the same flags and seed give the same data all day (default ${DEFAULT_SEED_OPTIONS.seed})
  --reset             truncate the tables first (a database that holds users is refused without it)
  --help              show this help`;

export type SeedArguments = { help: true } | { help: false; options: SeedOptions };

const FLAGS = ['users', 'conversations', 'messages', 'seed'] as const;

/**
 * Parses the command line of `db:seed` (without node and the script). Throws
 * a SeedOptionsError, one line naming the flag, for an unknown flag or a value
 * that is not a whole number in range.
 */
export function parseSeedArguments(argv: readonly string[]): SeedArguments {
  let values: Partial<Record<(typeof FLAGS)[number], string>> & { reset?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        users: { type: 'string' },
        conversations: { type: 'string' },
        messages: { type: 'string' },
        seed: { type: 'string' },
        reset: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new SeedOptionsError(describeParseError(error as Error & { code?: string }));
  }
  if (values.help) return { help: true };

  const options: SeedOptions = { ...DEFAULT_SEED_OPTIONS, reset: values.reset ?? false };
  for (const flag of FLAGS) {
    const text = values[flag];
    if (text === undefined) continue;
    const min = flag === 'seed' ? 0 : flag === 'users' ? 2 : 1;
    const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > MAX_COUNT) {
      const expected = min === 0 ? 'a whole number ≥ 0' : `a whole number ≥ ${min}`;
      throw new SeedOptionsError(`--${flag}: expected ${expected} (at most ${MAX_COUNT}), got ${JSON.stringify(text)}`);
    }
    options[flag] = value;
  }
  return { help: false, options };
}

// parseArgs's own messages are long and speak of "options" and positionals;
// these name the flag and list the valid ones.
function describeParseError(error: Error & { code?: string }): string {
  const valid = '--users, --conversations, --messages, --seed, --reset, --help';
  // parseArgs quotes the offending argument: "Unknown option '--foo'", "Option '--users <value>' argument missing".
  const quoted = /'([^']+)'/.exec(error.message)?.[1] ?? '';
  const flag = quoted.split(' ')[0];
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown flag ${flag} (expected one of ${valid})`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${JSON.stringify(quoted)}: each value follows its flag, as in --users 100 (flags: ${valid})`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (error.message.includes('does not take an argument')) return `${flag}: takes no value`;
      // "argument is ambiguous": the next argument starts with a dash (another flag, or a negative number).
      if (error.message.includes('ambiguous')) return `${flag}: expected a value, as in ${flag} 100, got another flag or a negative number`;
      return `${flag}: expected a value, as in ${flag} 100`;
    default:
      return error.message;
  }
}

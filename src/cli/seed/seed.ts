import type pg from 'pg';
import { refreshUserStatsInTransaction, STATS_REFRESH_LOCK_KEY } from '../../jobs/refresh-user-stats.js';
import { withTransaction } from '../../db/transaction.js';
import type { SeedOptions } from './options.js';
import { resolveSeedOptions } from './options.js';
import type { PlannedConversation } from './plan.js';
import { PHRASE_POOL_SIZE, planSeed } from './plan.js';
import {
  advanceSequences,
  analyzeSeededTables,
  dropIndexesAndForeignKeys,
  hasAnyUser,
  insertConversations,
  insertDailyActivity,
  insertMessages,
  insertParticipants,
  insertUsers,
  recreateStructure,
  SEED_LOCK_KEY,
  SEED_TRANSACTION_SETTINGS,
  stageLastPosts,
  stageSeedPlan,
  truncateSeededTables,
  updateConversationActivity,
  updateUserProgress,
} from './sql.js';

// The public face of the seed is this module; the options and their presets come along.
export { DEFAULT_SEED_OPTIONS, DEMO_SEED_OPTIONS, SeedOptionsError } from './options.js';
export type { SeedOptions } from './options.js';

/**
 * Fills an empty database with realistic, deterministic chat data: the same
 * options (seed and anchor included) give the same rows, id for id, on any
 * PostgreSQL, the embedded PGlite included.
 */

export type SeedStep = 'plan' | 'users' | 'conversations' | 'messages' | 'participants' | 'activity' | 'indexes' | 'view';

/** Reported after each piece of work; `done` of `total` units of the current step. */
export interface SeedProgressEvent {
  step: SeedStep;
  done: number;
  total: number;
  /** What the unit just done was, where it helps to know (the index or foreign key just built). */
  detail?: string;
  /** Since seedDatabase was called. */
  elapsedMs: number;
}

export interface SeedSummary {
  users: number;
  conversations: number;
  participants: number;
  messages: number;
  dailyActivityRows: number;
  seed: number;
  /** The anchor the timestamps were drawn against. */
  now: Date;
  durationMs: number;
}

/** The database already holds users and `reset` was not asked for. */
export class SeedRefusedError extends Error {
  constructor() {
    super('The database already holds users; seeding would mix with them. Reset it to replace its data.');
    this.name = 'SeedRefusedError';
  }
}

// Messages are written this many at a time (whole conversations per
// statement), for progress and to keep each statement's sort in memory.
const MESSAGES_PER_STATEMENT = 100_000;

/** True when the database holds no user, hence no data the seed could clash with. */
export async function isDatabaseEmpty(pool: pg.Pool): Promise<boolean> {
  return !(await hasAnyUser(pool));
}

/**
 * Seeds the database in one transaction: on failure nothing is left behind,
 * and with `reset` the old data is only gone once the new data is in. The
 * schema must be migrated. Throws a SeedRefusedError, before writing
 * anything, when users exist and `reset` is not set.
 */
export async function seedDatabase(pool: pg.Pool, options: SeedOptions, onProgress: (event: SeedProgressEvent) => void = () => {}): Promise<SeedSummary> {
  const resolved = resolveSeedOptions(options);
  const started = performance.now();
  const report = (step: SeedStep, done: number, total: number, detail?: string) =>
    onProgress({ step, done, total, detail, elapsedMs: performance.now() - started });

  const plan = planSeed(resolved);
  report('plan', 1, 1);

  let dailyActivityRows = 0;
  let participants = 0;
  let messages = 0;
  const locks = [
    { key: SEED_LOCK_KEY, wait: 'block' },
    // Taken before anything changes: until the commit, scheduled refreshes
    // skip instead of queueing on the tables this transaction locks (they
    // never read half-loaded tables), and the seed's own refresh at the end
    // can never wait on one of them (a deadlock).
    { key: STATS_REFRESH_LOCK_KEY, wait: 'block' },
  ] as const;
  await withTransaction(pool, { ...SEED_TRANSACTION_SETTINGS, locks }, async (client) => {
    if (resolved.reset) await truncateSeededTables(client);
    else if (await hasAnyUser(client)) throw new SeedRefusedError();
    // Built once at the end instead of kept up row by row: most of the time a seed takes.
    const dropped = await dropIndexesAndForeignKeys(client);

    await insertUsers(client, plan.users);
    report('users', plan.users.length, plan.users.length);
    await insertConversations(client, plan.conversations);
    await stageSeedPlan(client, plan.conversations, plan.participants, plan.phrases);
    report('conversations', plan.conversations.length, plan.conversations.length);

    for (const range of messageRanges(plan.conversations)) {
      messages += await insertMessages(client, { ...resolved, ...range, phrasePoolSize: PHRASE_POOL_SIZE });
      report('messages', messages, resolved.messages);
    }

    const activitySteps = 4;
    await stageLastPosts(client);
    await updateConversationActivity(client);
    report('activity', 1, activitySteps);
    participants = await insertParticipants(client, resolved.seed);
    report('participants', participants, plan.participants.length);
    dailyActivityRows = await insertDailyActivity(client);
    report('activity', 2, activitySteps);
    await updateUserProgress(client);
    report('activity', 3, activitySteps);
    await advanceSequences(client, {
      users: plan.users.length,
      conversations: plan.conversations.length,
      messages,
    });
    report('activity', 4, activitySteps);

    for (const [index, structure] of dropped.entries()) {
      await recreateStructure(client, structure);
      report('indexes', index + 1, dropped.length, structure.name);
    }

    await refreshUserStatsInTransaction(client);
    report('view', 1, 2);
  });
  await analyzeSeededTables(pool);
  report('view', 2, 2);

  return {
    users: plan.users.length,
    conversations: plan.conversations.length,
    participants,
    messages,
    dailyActivityRows,
    seed: resolved.seed,
    now: resolved.now,
    durationMs: performance.now() - started,
  };
}

/** Consecutive conversation ids holding about MESSAGES_PER_STATEMENT messages each (a busier conversation goes alone). */
function* messageRanges(conversations: PlannedConversation[]): Generator<{ fromId: number; toId: number }> {
  let fromId = 1;
  let pending = 0;
  for (const conversation of conversations) {
    pending += conversation.messageCount;
    if (pending >= MESSAGES_PER_STATEMENT) {
      yield { fromId, toId: conversation.id };
      fromId = conversation.id + 1;
      pending = 0;
    }
  }
  const last = conversations.at(-1);
  if (last && fromId <= last.id) yield { fromId, toId: last.id };
}

// user_stats_summary counts UTC days, as user_daily_activity records them,
// whatever the time zone of the session that refreshes it.
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { insertUser } from '../support/fixtures.js';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.close());

/** The UTC day `offset` days from today, as YYYY-MM-DD. */
function utcDay(offset: number): string {
  return new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
}

// At any hour, one of these two is on another calendar day than UTC.
describe.each(['Pacific/Kiritimati', 'Pacific/Pago_Pago'])('refreshed in time zone %s', (timeZone) => {
  it('counts the last 7 and 30 UTC days and the current streak', async () => {
    const user = await insertUser(database.pool, 'Zoned');
    // messages per UTC day offset: a streak of 3 up to today, then the window edges
    const activity: [number, number][] = [
      [0, 1],
      [-1, 2],
      [-2, 4],
      [-6, 8],
      [-7, 16],
      [-29, 32],
      [-30, 64],
    ];
    await database.pool.query(
      `INSERT INTO user_daily_activity (user_id, day, messages_count, xp_earned)
       SELECT $1, day, count, count * 10 FROM unnest($2::date[], $3::int[]) AS a(day, count)`,
      [user.id, activity.map(([offset]) => utcDay(offset)), activity.map(([, count]) => count)],
    );
    const client = await database.pool.connect();
    try {
      await client.query(`SET TIME ZONE '${timeZone}'`);
      await client.query('REFRESH MATERIALIZED VIEW user_stats_summary');
      const { rows } = await client.query(
        'SELECT total_messages, messages_7d, messages_30d, xp_7d, current_streak, max_streak FROM user_stats_summary WHERE user_id = $1',
        [user.id],
      );
      expect(rows[0]).toEqual({
        total_messages: 127,
        messages_7d: 1 + 2 + 4 + 8,
        messages_30d: 1 + 2 + 4 + 8 + 16 + 32,
        xp_7d: 150,
        current_streak: 3,
        max_streak: 3,
      });
    } finally {
      client.release();
    }
  });
});

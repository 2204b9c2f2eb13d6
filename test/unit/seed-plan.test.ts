import { ACTIVITY_WINDOW_DAYS, apportion, planSeed, type PlannedParticipant, type SeedPlan } from '../../src/cli/seed/plan.js';

const DAY_MS = 24 * 3600 * 1000;
const now = new Date('2026-06-01T00:00:00.000Z');
const windowStart = now.getTime() - ACTIVITY_WINDOW_DAYS * DAY_MS;
const options = { users: 300, conversations: 1_000, messages: 50_000, seed: 7, now };

// Map.groupBy arrives with Node 21; the project runs on 20.
function groupSeats(plan: SeedPlan, key: (participant: PlannedParticipant) => number): Map<number, PlannedParticipant[]> {
  const groups = new Map<number, PlannedParticipant[]>();
  for (const participant of plan.participants) {
    const group = groups.get(key(participant)) ?? [];
    group.push(participant);
    groups.set(key(participant), group);
  }
  return groups;
}
const seatsByConversation = (plan: SeedPlan) => groupSeats(plan, (participant) => participant.conversationId);
const seatsByUser = (plan: SeedPlan) => groupSeats(plan, (participant) => participant.userId);

describe('planSeed', () => {
  let plan: SeedPlan;
  beforeAll(() => {
    plan = planSeed(options);
  });

  it('draws the same plan from the same options, and another from another seed', () => {
    expect(planSeed(options)).toEqual(plan);
    expect(planSeed({ ...options, seed: 8 }).users.map((user) => user.username)).not.toEqual(plan.users.map((user) => user.username));
  });

  it('plans as many users, conversations and messages as asked, with ids 1…n', () => {
    expect(plan.users.map((user) => user.id)).toEqual(Array.from({ length: options.users }, (_, index) => index + 1));
    expect(plan.conversations.map((conversation) => conversation.id)).toEqual(Array.from({ length: options.conversations }, (_, index) => index + 1));
    expect(plan.conversations.reduce((sum, conversation) => sum + conversation.messageCount, 0)).toBe(options.messages);
    // Message ids run on from one conversation to the next, without gaps.
    let nextMessageId = 1;
    for (const conversation of plan.conversations) {
      expect(conversation.firstMessageId).toBe(nextMessageId);
      nextMessageId += conversation.messageCount;
    }
  });

  it('gives users unique usernames and emails that the users table accepts', () => {
    expect(new Set(plan.users.map((user) => user.username)).size).toBe(options.users);
    expect(new Set(plan.users.map((user) => user.email)).size).toBe(options.users);
    for (const user of plan.users) {
      expect(user.username).toMatch(/^[a-z0-9_.]{3,40}$/);
      expect(user.email).toMatch(/^[a-z0-9_.]+@example\.(com|net|org)$/);
      expect(user.displayName.trim().length).toBeGreaterThan(0);
      expect(user.createdAt.getTime()).toBeLessThan(windowStart);
    }
  });

  it('keeps usernames unique in a crowd where names repeat', () => {
    const crowd = planSeed({ users: 20_000, conversations: 1, messages: 1, seed: 1, now });
    expect(new Set(crowd.users.map((user) => user.username)).size).toBe(20_000);
    for (const user of crowd.users) expect(user.username).toMatch(/^[a-z0-9_.]{3,40}$/);
  });

  it('seats two users in a direct chat, keyed by the pair, and 2 to 8 distinct users in a group', () => {
    const seats = seatsByConversation(plan);
    const directKeys = new Set<string>();
    for (const conversation of plan.conversations) {
      const members = seats.get(conversation.id)!.map((participant) => participant.userId);
      expect(new Set(members).size).toBe(members.length);
      expect(members).toContain(conversation.createdBy);
      if (conversation.kind === 'direct') {
        const [low, high] = [...members].sort((a, b) => a - b);
        expect(members).toHaveLength(2);
        expect(conversation.directKey).toBe(`${low}:${high}`);
        expect(conversation.title).toBeNull();
        directKeys.add(conversation.directKey!);
      } else {
        expect(members.length).toBeGreaterThanOrEqual(2);
        expect(members.length).toBeLessThanOrEqual(8);
        expect(conversation.directKey).toBeNull();
        expect(conversation.title?.trim()).toBeTruthy();
      }
    }
    const direct = plan.conversations.filter((conversation) => conversation.kind === 'direct');
    expect(directKeys.size).toBe(direct.length);
    expect(direct.length).toBeGreaterThan(0);
    expect(direct.length).toBeLessThan(options.conversations);
  });

  it('makes the creator the owner and numbers seats 1…n', () => {
    const byId = new Map(plan.conversations.map((conversation) => [conversation.id, conversation]));
    for (const [conversationId, seats] of seatsByConversation(plan)) {
      expect(seats.map((seat) => seat.seat).sort((a, b) => a - b)).toEqual(seats.map((_, index) => index + 1));
      for (const seat of seats) {
        expect(seat.role).toBe(seat.userId === byId.get(conversationId)!.createdBy ? 'owner' : 'member');
      }
    }
  });

  it('creates conversations in the window, in id order, and has members join at or after creation', () => {
    const byId = new Map(plan.conversations.map((conversation) => [conversation.id, conversation]));
    let previous = 0;
    for (const conversation of plan.conversations) {
      const created = conversation.createdAt.getTime();
      expect(created).toBeGreaterThanOrEqual(windowStart);
      expect(created).toBeLessThan(now.getTime());
      expect(created).toBeGreaterThanOrEqual(previous);
      previous = created;
    }
    for (const participant of plan.participants) {
      const conversation = byId.get(participant.conversationId)!;
      expect(participant.joinedAt.getTime()).toBeGreaterThanOrEqual(conversation.createdAt.getTime());
      expect(participant.joinedAt.getTime()).toBeLessThan(now.getTime());
    }
  });

  it('spreads conversations over the days asked for, users signing up before them', () => {
    const days = 730;
    const longStart = now.getTime() - days * DAY_MS;
    const long = planSeed({ ...options, days });
    const created = long.conversations.map((conversation) => conversation.createdAt.getTime());
    for (const time of created) expect(time).toBeGreaterThanOrEqual(longStart);
    // Not only the last 90 days: the window is the one asked for.
    expect(Math.min(...created)).toBeLessThan(longStart + 90 * DAY_MS);
    for (const user of long.users) expect(user.createdAt.getTime()).toBeLessThan(longStart);
    expect(planSeed({ ...options, days: ACTIVITY_WINDOW_DAYS })).toEqual(plan);
  });

  it('spreads messages by a power law: a few busy conversations, most quiet', () => {
    const counts = plan.conversations.map((conversation) => conversation.messageCount).sort((a, b) => b - a);
    const median = counts[Math.floor(counts.length / 2)]!;
    expect(counts[0]).toBeGreaterThan(5_000);
    expect(median).toBeLessThan(50);
    expect(counts[0]! / median).toBeGreaterThan(100);
  });

  it('draws a few very active users: the busiest sit in far more conversations than the median', () => {
    const seatsPerUser = [...seatsByUser(plan).values()].map((seats) => seats.length).sort((a, b) => b - a);
    expect(seatsPerUser[0]! / seatsPerUser[Math.floor(seatsPerUser.length / 2)]!).toBeGreaterThan(10);
  });

  it('draws message phrases, none blank', () => {
    expect(plan.phrases.length).toBeGreaterThan(100);
    for (const phrase of plan.phrases) expect(phrase.trim().length).toBeGreaterThan(0);
  });

  it('copes with the smallest crowd: two users, several conversations', () => {
    const tiny = planSeed({ users: 2, conversations: 5, messages: 3, seed: 1, now });
    expect(tiny.conversations.filter((conversation) => conversation.kind === 'direct')).toHaveLength(1);
    expect(tiny.participants.every((participant) => participant.userId === 1 || participant.userId === 2)).toBe(true);
    expect(tiny.conversations.reduce((sum, conversation) => sum + conversation.messageCount, 0)).toBe(3);
  });
});

describe('apportion', () => {
  it('splits a total into whole parts proportional to the weights that add up exactly', () => {
    expect(apportion(10, [1, 1, 1])).toEqual([4, 3, 3]);
    expect(apportion(7, [3, 1])).toEqual([5, 2]);
    expect(apportion(0, [1, 2])).toEqual([0, 0]);
    const parts = apportion(
      1_000_003,
      Array.from({ length: 977 }, (_, rank) => 1 / (rank + 1)),
    );
    expect(parts.reduce((a, b) => a + b, 0)).toBe(1_000_003);
    expect(parts.every((part, index) => index === 0 || part <= parts[index - 1]!)).toBe(true);
  });
});

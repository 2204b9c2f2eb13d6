// Internal: the part of the seed drawn in JavaScript from one seeded faker:
// users, conversations, who sits in them, how many messages each gets, and
// the phrases message bodies are made of. Messages themselves are made in SQL
// (see sql.ts) from this plan.
import { base, en, Faker } from '@faker-js/faker';

const DAY_MS = 24 * 3600 * 1000;

/** Messages fall in this many days before the anchor, unless the options say otherwise; conversations are created in it too. */
export const ACTIVITY_WINDOW_DAYS = 90;

/** Size of the phrase pool; message bodies are one to three phrases from it, picked in SQL. */
export const PHRASE_POOL_SIZE = 1024;

// The share of conversations that are direct chats (when there are enough pairs of users).
const DIRECT_SHARE = 0.55;
// Zipf exponents. Messages over conversations: the conversation of rank r
// gets a share ∝ 1/r, so a handful hold thousands of messages and most a
// few. Users over seats: milder, or the most active user would sit in a
// tenth of all conversations.
const CONVERSATION_EXPONENT = 1;
const USER_EXPONENT = 0.7;
const GROUP_SIZES = [
  { value: 2, weight: 8 },
  { value: 3, weight: 25 },
  { value: 4, weight: 20 },
  { value: 5, weight: 15 },
  { value: 6, weight: 12 },
  { value: 7, weight: 10 },
  { value: 8, weight: 10 },
];
// A share of group members join after the group was created.
const LATE_JOINER_SHARE = 0.3;

export interface PlannedUser {
  id: number;
  username: string;
  displayName: string;
  email: string;
  avatarUrl: string | null;
  createdAt: Date;
}

export interface PlannedConversation {
  id: number;
  kind: 'direct' | 'group';
  title: string | null;
  directKey: string | null;
  createdBy: number;
  createdAt: Date;
  messageCount: number;
  /** Messages of this conversation get ids firstMessageId … firstMessageId + messageCount − 1, in time order. */
  firstMessageId: number;
}

export interface PlannedParticipant {
  conversationId: number;
  userId: number;
  /** 1 = the conversation's most active member; SQL picks authors by seat, low seats more often. */
  seat: number;
  role: 'owner' | 'member';
  joinedAt: Date;
}

export interface SeedPlan {
  users: PlannedUser[];
  conversations: PlannedConversation[];
  participants: PlannedParticipant[];
  phrases: string[];
}

/** Draws the plan; the same options give the same plan, value for value. */
export function planSeed(options: { users: number; conversations: number; messages: number; seed: number; now: Date; days?: number }): SeedPlan {
  const faker = new Faker({ locale: [en, base] });
  faker.seed(options.seed);
  const random = () => faker.number.float();
  const windowMs = (options.days ?? ACTIVITY_WINDOW_DAYS) * DAY_MS;
  const windowStart = options.now.getTime() - windowMs;

  const users = planUsers(faker, options.users, windowStart, windowMs);
  // Activity is a user's weight in every draw of a seat: a random
  // permutation of Zipf weights, so the very active users are a few, spread
  // over all ids.
  const activity = new Map<number, number>();
  faker.helpers.shuffle(users.map((user) => user.id)).forEach((id, rank) => activity.set(id, (rank + 1) ** -USER_EXPONENT));
  const pickUser = weightedPicker(
    users.map((user) => user.id),
    users.map((user) => activity.get(user.id) ?? 0),
    random,
  );

  const drafts = draftConversations(faker, options, pickUser);
  // Message counts by a Zipf rank in random order; the busiest
  // conversations are also the oldest, as they would be.
  const ranks = faker.helpers.shuffle(drafts.map((_, index) => index));
  const counts = apportion(
    options.messages,
    ranks.map((_, rank) => (rank + 1) ** -CONVERSATION_EXPONENT),
  );
  ranks.forEach((draftIndex, rank) => {
    const draft = drafts[draftIndex]!;
    draft.messageCount = counts[rank]!;
    const rankShare = (rank + 1) / drafts.length;
    const age = windowMs * (1 - 0.98 * random() * rankShare);
    draft.createdAt = options.now.getTime() - Math.floor(age);
  });

  // Ids follow creation time, as a live database's would.
  const ordered = drafts.map((draft, index) => ({ draft, index })).sort((a, b) => a.draft.createdAt - b.draft.createdAt || a.index - b.index);
  const conversations: PlannedConversation[] = [];
  const participants: PlannedParticipant[] = [];
  let nextMessageId = 1;
  for (const [position, { draft }] of ordered.entries()) {
    const id = position + 1;
    const [low, high] = draft.members.length === 2 ? [...draft.members].sort((a, b) => a - b) : [0, 0];
    conversations.push({
      id,
      kind: draft.kind,
      title: draft.title,
      directKey: draft.kind === 'direct' ? `${low}:${high}` : null,
      createdBy: draft.members[0]!,
      createdAt: new Date(draft.createdAt),
      messageCount: draft.messageCount,
      firstMessageId: nextMessageId,
    });
    nextMessageId += draft.messageCount;
    const seats = [...draft.members].sort((a, b) => (activity.get(b) ?? 0) - (activity.get(a) ?? 0) || a - b);
    for (const userId of draft.members) {
      const creator = userId === draft.members[0];
      const joinsLate = draft.kind === 'group' && !creator && random() < LATE_JOINER_SHARE;
      const joinedAt = joinsLate ? draft.createdAt + Math.floor((options.now.getTime() - draft.createdAt) * 0.5 * random()) : draft.createdAt;
      participants.push({
        conversationId: id,
        userId,
        seat: seats.indexOf(userId) + 1,
        // As createConversation does: the creator owns the conversation, direct or group.
        role: creator ? 'owner' : 'member',
        joinedAt: new Date(joinedAt),
      });
    }
  }

  return { users, conversations, participants, phrases: planPhrases(faker) };
}

interface ConversationDraft {
  kind: 'direct' | 'group';
  title: string | null;
  /** The creator first. */
  members: number[];
  messageCount: number;
  createdAt: number;
}

function planUsers(faker: Faker, count: number, windowStart: number, windowMs: number): PlannedUser[] {
  const taken = new Set<string>();
  const drafts = Array.from({ length: count }, (_, index) => {
    const firstName = faker.person.firstName();
    const lastName = faker.person.lastName();
    const drawn = faker.internet
      .username({ firstName, lastName })
      .toLowerCase()
      .replace(/[^a-z0-9_.]/g, '')
      .slice(0, 29)
      .padEnd(3, '_');
    // Names repeat in a crowd; the draw's index makes the username unique,
    // and a counter after it in the rare case that a drawn name already
    // looks like that. At most 29 + 1 + 10 characters, within the 40 allowed.
    let username = drawn;
    for (let suffix = index + 1; taken.has(username); suffix += count) username = `${drawn}_${suffix}`;
    taken.add(username);
    return {
      username,
      displayName: `${firstName} ${lastName}`,
      // Reserved example domains: seeded addresses must never reach a real inbox.
      email: `${username}@${faker.helpers.arrayElement(['example.com', 'example.net', 'example.org'])}`,
      avatarUrl: faker.datatype.boolean(0.85) ? faker.image.avatar() : null,
      // Everyone signed up before the activity window opens, so every join
      // and message in it comes after its user's sign-up.
      createdAt: windowStart - Math.floor(faker.number.float() * windowMs) - 1,
    };
  });
  return drafts
    .map((draft, index) => ({ draft, index }))
    .sort((a, b) => a.draft.createdAt - b.draft.createdAt || a.index - b.index)
    .map(({ draft }, position) => ({ id: position + 1, ...draft, createdAt: new Date(draft.createdAt) }));
}

function draftConversations(faker: Faker, options: { users: number; conversations: number }, pickUser: () => number): ConversationDraft[] {
  const pairs = (options.users * (options.users - 1)) / 2;
  const directTarget = Math.min(Math.round(options.conversations * DIRECT_SHARE), pairs);
  const usedPairs = new Set<string>();
  const drafts: ConversationDraft[] = [];
  for (let index = 0; index < options.conversations; index += 1) {
    const pair = index < directTarget ? drawUnusedPair(pickUser, usedPairs) : undefined;
    if (pair) {
      drafts.push({ kind: 'direct', title: null, members: pair, messageCount: 0, createdAt: 0 });
      continue;
    }
    const size = Math.min(faker.helpers.weightedArrayElement(GROUP_SIZES), options.users);
    const members = new Set<number>();
    // Weighted draws without replacement; the rare case of a small crowd
    // where heavy users keep coming back falls back to the next free id.
    for (let attempt = 0; members.size < size; attempt += 1) {
      let userId = pickUser();
      if (attempt > 50) while (members.has(userId)) userId = (userId % options.users) + 1;
      members.add(userId);
    }
    drafts.push({ kind: 'group', title: groupTitle(faker), members: [...members], messageCount: 0, createdAt: 0 });
  }
  return drafts;
}

// A direct chat's pair, not used before. Gives up (the slot becomes a group)
// when the heavy users' pairs are exhausted and draws keep landing on them.
function drawUnusedPair(pickUser: () => number, usedPairs: Set<string>): number[] | undefined {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const first = pickUser();
    const second = pickUser();
    const key = first < second ? `${first}:${second}` : `${second}:${first}`;
    if (first === second || usedPairs.has(key)) continue;
    usedPairs.add(key);
    return [first, second];
  }
  return undefined;
}

function groupTitle(faker: Faker): string {
  const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
  return faker.helpers.arrayElement([
    () => `${capitalized(faker.company.buzzAdjective())} ${faker.company.buzzNoun()}`,
    () => `${faker.location.city()} ${faker.helpers.arrayElement(['friends', 'runners', 'book club', 'crew', 'neighbours'])}`,
    () => `${faker.commerce.department()} team`,
    () => `${faker.music.genre()} fans`,
    () => `${capitalized(faker.word.adjective())} ${faker.word.noun()} ${faker.helpers.arrayElement(['chat', 'club', 'planning'])}`,
  ])();
}

// Chat is mostly short: a tenth of the pool are one-word replies; the rest
// are sentences, English so that the search index stems them.
function planPhrases(faker: Faker): string[] {
  return Array.from({ length: PHRASE_POOL_SIZE }, (_, index) => {
    if (index % 10 === 0) return `${faker.word.interjection()}${faker.helpers.arrayElement(['', '!', '.', '?'])}`;
    if (index % 3 === 0) return faker.hacker.phrase();
    const words = faker.word.words({ count: { min: 2, max: 12 } });
    return `${words.charAt(0).toUpperCase()}${words.slice(1)}${faker.helpers.arrayElement(['.', '.', '?', '!', ''])}`;
  });
}

/** Picks one of `values` with probability ∝ its weight, by binary search over the running sums. */
function weightedPicker(values: number[], weights: number[], random: () => number): () => number {
  const cumulative: number[] = [];
  let sum = 0;
  for (const weight of weights) cumulative.push((sum += weight));
  return () => {
    const target = random() * sum;
    let low = 0;
    let high = cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (cumulative[middle]! > target) high = middle;
      else low = middle + 1;
    }
    return values[low]!;
  };
}

/**
 * Splits `total` into whole parts ∝ `weights` that add up to exactly `total`
 * (largest remainders get the leftover units).
 */
export function apportion(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((weight) => (total * weight) / sum);
  const parts = exact.map(Math.floor);
  let leftover = total - parts.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((value, index) => ({ index, remainder: value - Math.floor(value) }));
  byRemainder.sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  for (const { index } of byRemainder) {
    if (leftover === 0) break;
    parts[index]! += 1;
    leftover -= 1;
  }
  return parts;
}

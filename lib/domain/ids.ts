// Identifier formats for every entity, in one place: a short prefix plus a ULID, so an id says
// what it names in logs and URLs and sorts by creation time.
import { createHash } from 'node:crypto';
import { monotonicFactory } from 'ulid';
import * as z from 'zod';

/** Prefix per entity kind. Events use a bare ULID (`eventId`) because consumers dedupe on it. */
export const ID_PREFIXES = {
  project: 'prj',
  goal: 'goal',
  task: 'task',
  agentRun: 'run',
  lesson: 'lsn',
} as const;
export type IdKind = keyof typeof ID_PREFIXES;

const ULID_BODY = '[0-9A-HJKMNP-TV-Z]{26}';
const ULID_RE = new RegExp(`^${ULID_BODY}$`);
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

// Monotonic so ids minted in the same millisecond by one process still sort in creation order.
const nextUlid = monotonicFactory();

export function newUlid(now: number = Date.now()): string {
  return nextUlid(now);
}

export function newId(kind: IdKind, now: number = Date.now()): string {
  return `${ID_PREFIXES[kind]}_${nextUlid(now)}`;
}

export function idPattern(kind: IdKind): RegExp {
  return new RegExp(`^${ID_PREFIXES[kind]}_${ULID_BODY}$`);
}

export function isId(kind: IdKind, value: unknown): value is string {
  return typeof value === 'string' && idPattern(kind).test(value);
}

function idSchema(kind: IdKind) {
  return z.string().regex(idPattern(kind), { message: `must be a ${kind} id (${ID_PREFIXES[kind]}_<ULID>)` });
}

export const ProjectIdSchema = idSchema('project');
export const GoalIdSchema = idSchema('goal');
export const TaskIdSchema = idSchema('task');
export const AgentRunIdSchema = idSchema('agentRun');
export const LessonIdSchema = idSchema('lesson');
export const EventIdSchema = z.string().regex(ULID_RE, { message: 'must be a ULID' });

/**
 * A task id that is the same every time the same plan task of the same goal is materialised.
 * Plan materialisation can be retried (duplicate SQS delivery, Lambda retry); deterministic ids
 * turn the retry into conditional puts of items that already exist instead of a second set of
 * tasks. The time part comes from the goal's ULID so task ids still sort with their goal.
 */
export function taskIdFor(goalId: string, planKey: string, revision = 0): string {
  const goalUlid = goalId.slice(goalId.indexOf('_') + 1);
  if (!ULID_RE.test(goalUlid)) throw new TypeError(`not a goal id: ${goalId}`);
  return `${ID_PREFIXES.task}_${goalUlid.slice(0, 10)}${digestBase32(`${goalId}\u0000${revision}\u0000${planKey}`)}`;
}

/**
 * A ULID that is the same every time for the same `key`: the time part is `timeMs`, the random
 * part a digest of the key. Steps that may run twice (SQS redelivery, Lambda retry) name their
 * events with it, so the event log's append turns the repeat into a no-op.
 */
export function ulidFor(key: string, timeMs: number): string {
  const time = Math.max(0, Math.min(Math.floor(timeMs), 2 ** 48 - 1));
  let timePart = '';
  let rest = time;
  for (let i = 0; i < 10; i++) {
    timePart = CROCKFORD[rest % 32] + timePart;
    rest = Math.floor(rest / 32);
  }
  return timePart + digestBase32(key);
}

/** 16 Crockford base32 characters (80 bits) of the SHA-256 of `key`: a ULID's random part, derived. */
function digestBase32(key: string): string {
  const digest = createHash('sha256').update(key).digest();
  let out = '';
  for (let i = 0; i < 16; i++) {
    const bit = i * 5;
    const byte = bit >> 3;
    const word = ((digest[byte] ?? 0) << 8) | (digest[byte + 1] ?? 0);
    out += CROCKFORD[(word >> (11 - (bit & 7))) & 31];
  }
  return out;
}

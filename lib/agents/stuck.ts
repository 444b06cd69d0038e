// Stuck detection: an agent that makes the same tool call and gets the same result again and
// again is going in circles, and every further turn only burns budget.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../domain/canonical-json';
import { AgentStuckError } from './errors';

export const DEFAULT_STUCK_THRESHOLD = 3;

/**
 * Counts (tool name, canonical input, result fingerprint) triples over the whole run. Counting
 * all repeats, not only consecutive ones, also catches loops such as read A, read B, read A, …
 * The counts are plain data so a checkpoint can carry them across a continuation.
 */
export class StuckDetector {
  constructor(
    readonly threshold: number = DEFAULT_STUCK_THRESHOLD,
    /** fingerprint → times seen. */
    readonly counts: Record<string, number> = {},
  ) {
    if (!Number.isInteger(threshold) || threshold < 2) throw new RangeError(`stuck threshold must be an integer ≥ 2, got ${threshold}`);
  }

  /** Records one call and its result; throws AgentStuckError when it has now been seen `threshold` times. */
  observe(toolName: string, input: unknown, resultFingerprint: string): number {
    const canonicalInput = canonicalJson(input ?? {});
    const key = createHash('sha256').update(`${toolName}\u0000${canonicalInput}\u0000${resultFingerprint}`).digest('hex').slice(0, 32);
    const seen = (this.counts[key] ?? 0) + 1;
    this.counts[key] = seen;
    if (seen >= this.threshold) throw new AgentStuckError(toolName, canonicalInput, seen);
    return seen;
  }
}

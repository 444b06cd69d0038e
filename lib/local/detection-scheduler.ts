// The local DetectionScheduler: what EventBridge Scheduler does in a cell, with timers. Each
// enabled project schedule fires at the times the same expression gives in the project's time zone
// (lib/domain/schedule-expression.ts) and starts a detection run with `trigger: "schedule"`.
import { nextFireTime, parseScheduleExpression, type ScheduleExpression } from '../domain/schedule-expression';
import type { Schedule } from '../domain/project';
import { logger } from '../powertools';
import type { DetectionRequest, DetectionScheduler } from '../ports/index';

/** Time as the scheduler sees it; tests pass a fake one. */
export interface SchedulerClock {
  now(): number;
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

const systemClock: SchedulerClock = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => {
    const handle = setTimeout(callback, delayMs);
    // A waiting schedule alone must not keep a process alive.
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

// Node's timers hold at most 2^31-1 ms (about 24.8 days); a later firing is reached in hops.
const LONGEST_TIMER_MS = 2 ** 31 - 1;

export interface ScheduledDetection {
  projectId: string;
  schedule: Schedule;
  /** When it fires next; undefined when the expression never fires again (its years have passed). */
  nextRunAt?: Date;
}

interface Entry {
  schedule: Schedule;
  expression: ScheduleExpression;
  /** When the schedule was put: rate expressions count their periods from here. */
  anchor: Date;
  nextRunAt?: Date;
  timer?: unknown;
}

export interface LocalDetectionSchedulerOptions {
  /** Starts one detection run; a failure is logged and the schedule keeps firing. */
  start: (request: DetectionRequest) => Promise<unknown>;
  clock?: SchedulerClock;
  /** Told about every firing (cahoots dev prints it). */
  onFire?: (event: { projectId: string; at: Date; error?: unknown }) => void;
}

export class LocalDetectionScheduler implements DetectionScheduler {
  private readonly clock: SchedulerClock;
  private readonly entries = new Map<string, Entry>();
  private readonly running = new Set<Promise<void>>();
  private armed = false;

  constructor(private readonly options: LocalDetectionSchedulerOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Schedules are recorded from the start but fire only once this is called, so a one-off run
   * (`cahoots run --data-dir`) never starts detections of the projects it finds on disk.
   */
  start(): void {
    this.armed = true;
    for (const projectId of this.entries.keys()) this.arm(projectId);
  }

  async upsert(projectId: string, schedule: Schedule): Promise<void> {
    this.disarm(projectId);
    if (!schedule.enabled) {
      this.entries.delete(projectId);
      return;
    }
    // Parsed here as EventBridge Scheduler parses on CreateSchedule: a bad expression fails the call.
    const expression = parseScheduleExpression(schedule.cron);
    this.entries.set(projectId, { schedule, expression, anchor: new Date(this.clock.now()) });
    if (this.armed) this.arm(projectId);
  }

  async delete(projectId: string): Promise<void> {
    this.disarm(projectId);
    this.entries.delete(projectId);
  }

  /** Every enabled schedule and when it fires next, by project id. */
  list(): ScheduledDetection[] {
    return [...this.entries].map(([projectId, entry]) => ({
      projectId,
      schedule: entry.schedule,
      ...(entry.nextRunAt ? { nextRunAt: entry.nextRunAt } : {}),
    }));
  }

  /** Stops every timer and waits for detection starts already under way. */
  async stop(): Promise<void> {
    this.armed = false;
    for (const projectId of this.entries.keys()) this.disarm(projectId);
    await Promise.allSettled([...this.running]);
  }

  private arm(projectId: string, after: Date = new Date(this.clock.now())): void {
    const entry = this.entries.get(projectId);
    if (!entry) return;
    const next = nextFireTime(entry.expression, { after, timeZone: entry.schedule.timezone, anchor: entry.anchor });
    entry.nextRunAt = next;
    if (!next) return;
    this.wait(projectId, entry, next);
  }

  private wait(projectId: string, entry: Entry, at: Date): void {
    const delay = at.getTime() - this.clock.now();
    if (delay > LONGEST_TIMER_MS) {
      entry.timer = this.clock.setTimeout(() => this.wait(projectId, entry, at), LONGEST_TIMER_MS);
      return;
    }
    entry.timer = this.clock.setTimeout(() => this.fire(projectId, entry, at), Math.max(0, delay));
  }

  private fire(projectId: string, entry: Entry, at: Date): void {
    entry.timer = undefined;
    // Cron times are absolute and rates count from the anchor, so the series never drifts; after a
    // pause (a sleeping laptop) missed firings are skipped, as EventBridge Scheduler does not replay them.
    this.arm(projectId, new Date(Math.max(at.getTime(), this.clock.now())));
    const run = this.options
      .start({ projectId, trigger: 'schedule' })
      .then(
        () => this.options.onFire?.({ projectId, at }),
        (error: unknown) => {
          logger.error('Scheduled detection did not start', { projectId, error: error as Error });
          this.options.onFire?.({ projectId, at, error });
        },
      )
      .finally(() => this.running.delete(run));
    this.running.add(run);
  }

  private disarm(projectId: string): void {
    const entry = this.entries.get(projectId);
    if (entry?.timer !== undefined) this.clock.clearTimeout(entry.timer);
    if (entry) {
      entry.timer = undefined;
      entry.nextRunAt = undefined;
    }
  }
}

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalDetectionScheduler } from '../../lib/local/detection-scheduler';
import type { DetectionRequest } from '../../lib/ports/index';

const projectId = 'prj_01JDZ8W5T1N6V1Q2ZK3M4X5Y6Z';
const other = 'prj_01JDZ8W5T1N6V1Q2ZK3M4X5Y70';

function recordingScheduler() {
  const started: Array<DetectionRequest & { at: string }> = [];
  const scheduler = new LocalDetectionScheduler({
    start: async (request) => {
      started.push({ ...request, at: new Date().toISOString() });
    },
  });
  return { scheduler, started };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  vi.setSystemTime(new Date('2026-10-23T12:00:00Z'));
});
afterEach(() => vi.useRealTimers());

describe('LocalDetectionScheduler', () => {
  it('fires a cron schedule at its wall-clock time in the project time zone, across a daylight-saving change', async () => {
    const { scheduler, started } = recordingScheduler();
    await scheduler.upsert(projectId, { cron: 'cron(0 3 * * ? *)', timezone: 'Europe/Berlin', enabled: true });
    scheduler.start();
    expect(scheduler.list()[0]?.nextRunAt?.toISOString()).toBe('2026-10-24T01:00:00.000Z');
    await vi.advanceTimersByTimeAsync(3 * 24 * 3_600_000);
    expect(started).toEqual([
      { projectId, trigger: 'schedule', at: '2026-10-24T01:00:00.000Z' },
      { projectId, trigger: 'schedule', at: '2026-10-25T02:00:00.000Z' },
      { projectId, trigger: 'schedule', at: '2026-10-26T02:00:00.000Z' },
    ]);
    await scheduler.stop();
  });

  it('fires a rate every period from when it was put; a changed schedule replaces the old one', async () => {
    const { scheduler, started } = recordingScheduler();
    scheduler.start();
    await scheduler.upsert(projectId, { cron: 'rate(6 hours)', timezone: 'UTC', enabled: true });
    await vi.advanceTimersByTimeAsync(13 * 3_600_000);
    expect(started.map((s) => s.at)).toEqual(['2026-10-23T18:00:00.000Z', '2026-10-24T00:00:00.000Z']);
    await scheduler.upsert(projectId, { cron: 'rate(30 minutes)', timezone: 'UTC', enabled: true });
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(started.map((s) => s.at).slice(2)).toEqual(['2026-10-24T01:30:00.000Z', '2026-10-24T02:00:00.000Z']);
    await scheduler.stop();
  });

  it('does not fire disabled or deleted schedules, nor any before start()', async () => {
    const { scheduler, started } = recordingScheduler();
    await scheduler.upsert(projectId, { cron: 'rate(1 minute)', timezone: 'UTC', enabled: true });
    await scheduler.upsert(other, { cron: 'rate(1 minute)', timezone: 'UTC', enabled: true });
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(started).toEqual([]);
    scheduler.start();
    await scheduler.upsert(other, { cron: 'rate(1 minute)', timezone: 'UTC', enabled: false });
    await vi.advanceTimersByTimeAsync(2 * 60_000);
    await scheduler.delete(projectId);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(started.map((s) => s.projectId)).toEqual([projectId, projectId]);
    expect(scheduler.list()).toEqual([]);
    await scheduler.stop();
  });

  it('keeps firing after a start fails, and reaches a firing months away through timer hops', async () => {
    const fired: Array<{ at: string; failed: boolean }> = [];
    let calls = 0;
    const scheduler = new LocalDetectionScheduler({
      start: async () => {
        calls += 1;
        if (calls === 1) throw new Error('state machine busy');
      },
      onFire: ({ at, error }) => fired.push({ at: at.toISOString(), failed: error !== undefined }),
    });
    await scheduler.upsert(projectId, { cron: 'cron(0 9 1 JAN,APR ? *)', timezone: 'America/New_York', enabled: true });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(200 * 24 * 3_600_000);
    expect(fired).toEqual([
      { at: '2027-01-01T14:00:00.000Z', failed: true },
      { at: '2027-04-01T13:00:00.000Z', failed: false },
    ]);
    await scheduler.stop();
  });

  it('refuses an expression EventBridge Scheduler would refuse', async () => {
    const { scheduler } = recordingScheduler();
    await expect(scheduler.upsert(projectId, { cron: 'cron(0 3 * * * *)', timezone: 'UTC', enabled: true })).rejects.toThrow(
      /exactly one of day-of-month and day-of-week must be \?/,
    );
  });
});

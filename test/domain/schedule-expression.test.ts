import { describe, expect, it } from 'vitest';
import { CreateProjectInputSchema, nextFireTime, parseScheduleExpression, ScheduleExpressionError } from '../../lib/domain/index';

/** The next `count` fire times after `from`, as ISO strings. */
function fires(expression: string, from: string, timeZone = 'UTC', count = 3, anchor?: string): string[] {
  const result: string[] = [];
  let after = new Date(from);
  for (let i = 0; i < count; i++) {
    const next = nextFireTime(expression, { after, timeZone, ...(anchor ? { anchor: new Date(anchor) } : {}) });
    if (!next) break;
    result.push(next.toISOString());
    after = next;
  }
  return result;
}

describe('EventBridge Scheduler expressions', () => {
  it('fires a daily cron at the wall-clock time of the zone, across a daylight-saving change', () => {
    // Europe/Berlin leaves summer time on 2026-10-25: 03:00 local is 01:00Z before, 02:00Z after.
    expect(fires('cron(0 3 * * ? *)', '2026-10-23T12:00:00Z', 'Europe/Berlin')).toEqual([
      '2026-10-24T01:00:00.000Z',
      '2026-10-25T02:00:00.000Z',
      '2026-10-26T02:00:00.000Z',
    ]);
  });

  it('skips a wall-clock minute that does not exist and fires a repeated one once', () => {
    // 2026-03-29 02:30 does not exist in Berlin (02:00 → 03:00).
    expect(fires('cron(30 2 * * ? *)', '2026-03-28T00:00:00Z', 'Europe/Berlin', 2)).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-30T00:30:00.000Z']);
    // 2026-10-25 02:30 happens twice; the first (summer time, 00:30Z) fires, the second does not.
    expect(fires('cron(30 2 * * ? *)', '2026-10-24T12:00:00Z', 'Europe/Berlin', 2)).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
  });

  it('reads lists, ranges, steps and names', () => {
    expect(fires('cron(0/20 9-10 ? * MON-FRI *)', '2026-12-04T10:30:00Z', 'UTC', 4)).toEqual([
      '2026-12-04T10:40:00.000Z', // Friday
      '2026-12-07T09:00:00.000Z', // Monday
      '2026-12-07T09:20:00.000Z',
      '2026-12-07T09:40:00.000Z',
    ]);
    expect(fires('cron(15 6 1,15 JAN,JUL ? 2027)', '2026-12-02T00:00:00Z', 'UTC', 5)).toEqual([
      '2027-01-01T06:15:00.000Z',
      '2027-01-15T06:15:00.000Z',
      '2027-07-01T06:15:00.000Z',
      '2027-07-15T06:15:00.000Z',
    ]);
  });

  it('supports L, L-n, LW, nW, nL and n#k day rules', () => {
    expect(fires('cron(0 0 L * ? *)', '2027-01-15T00:00:00Z', 'UTC', 2)).toEqual(['2027-01-31T00:00:00.000Z', '2027-02-28T00:00:00.000Z']);
    expect(fires('cron(0 0 L-2 2 ? 2028)', '2027-01-01T00:00:00Z')).toEqual(['2028-02-27T00:00:00.000Z']); // leap year: 29 - 2
    // 2027-01-31 is a Sunday: the last weekday of January is Friday the 29th.
    expect(fires('cron(0 0 LW 1 ? 2027)', '2027-01-01T00:00:00Z')).toEqual(['2027-01-29T00:00:00.000Z']);
    // 2027-05-15 is a Saturday: 15W is Friday the 14th. 2027-08-01 is a Sunday: 1W is Monday the 2nd.
    expect(fires('cron(0 0 15W 5 ? 2027)', '2027-01-01T00:00:00Z')).toEqual(['2027-05-14T00:00:00.000Z']);
    expect(fires('cron(0 0 1W 8 ? 2027)', '2027-01-01T00:00:00Z')).toEqual(['2027-08-02T00:00:00.000Z']);
    // Last Friday (6L) and second Tuesday (3#2) of December 2026.
    expect(fires('cron(0 12 ? 12 6L 2026)', '2026-12-01T00:00:00Z')).toEqual(['2026-12-25T12:00:00.000Z']);
    expect(fires('cron(0 12 ? 12 TUE#2 2026)', '2026-12-01T00:00:00Z')).toEqual(['2026-12-08T12:00:00.000Z']);
  });

  it('fires a rate every period counted from when the schedule was put', () => {
    expect(fires('rate(6 hours)', '2026-12-02T14:00:00Z', 'UTC', 3, '2026-12-02T10:30:00Z')).toEqual([
      '2026-12-02T16:30:00.000Z',
      '2026-12-02T22:30:00.000Z',
      '2026-12-03T04:30:00.000Z',
    ]);
    expect(parseScheduleExpression('rate(1 day)')).toMatchObject({ kind: 'rate', everyMinutes: 1_440 });
  });

  it('ends when the years run out', () => {
    expect(fires('cron(0 0 1 1 ? 2027)', '2027-06-01T00:00:00Z')).toEqual([]);
  });

  it.each([
    ['0 3 * * *', /cron\(min hour/],
    ['cron(0 3 * * *)', /6 fields/],
    ['cron(0 3 * * * *)', /exactly one of day-of-month and day-of-week must be \?/],
    ['cron(0 3 ? * ? *)', /exactly one of/],
    ['cron(60 3 * * ? *)', /minutes: 60 is outside 0-59/],
    ['cron(0 3 * FOO ? *)', /month: "FOO" is not a number or a name/],
    ['cron(0 5-3 * * ? *)', /hours: the range "5-3" runs backwards/],
    ['cron(0 3 ? * 2#6 *)', /week after # must be 1-5/],
    ['cron(0 3 * * ? 2300)', /year: 2300 is outside 1970-2199/],
    ['cron(0 L * * ? *)', /belong to the day fields only/],
    ['cron(0 3 ? * 2W *)', /W belongs to day-of-month/],
    ['rate(5 minute)', /must be written rate\(5 minutes\)/],
    ['rate(1 hours)', /must be written rate\(1 hour\)/],
    ['rate(2 weeks)', /unit "weeks" must be minutes, hours or days/],
    ['at(2027-01-01T00:00:00)', /runs once/],
  ])('refuses %s with a message naming the problem', (expression, message) => {
    expect(() => parseScheduleExpression(expression)).toThrow(ScheduleExpressionError);
    expect(() => parseScheduleExpression(expression)).toThrow(message);
  });

  it('validates project schedules with the same parser and a known time zone', () => {
    const base = { name: 'p', repo: { path: '/tmp/x' } };
    const ok = CreateProjectInputSchema.parse({ ...base, schedule: { cron: 'rate(12 hours)', timezone: 'America/New_York', enabled: true } });
    expect(ok.schedule).toEqual({ cron: 'rate(12 hours)', timezone: 'America/New_York', enabled: true });
    const badCron = CreateProjectInputSchema.safeParse({ ...base, schedule: { cron: 'cron(0 25 * * ? *)' } });
    expect(badCron.success ? [] : badCron.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'schedule.cron: schedule cron(0 25 * * ? *): hours: 25 is outside 0-23',
    ]);
    const badZone = CreateProjectInputSchema.safeParse({ ...base, schedule: { timezone: 'Mars/Olympus' } });
    expect(badZone.success ? '' : badZone.error.issues[0]?.message).toMatch(/not a known IANA time zone/);
  });
});

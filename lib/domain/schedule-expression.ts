// EventBridge Scheduler's recurring expressions — `cron(min hour day-of-month month day-of-week year)`
// and `rate(N minutes|hours|days)` — parsed once and evaluated in an IANA time zone. The project
// schema validates with it, and the local scheduler computes fire times with it, so an expression
// that works locally is one the cell's scheduler accepts and fires at the same wall-clock times.
import * as z from 'zod';

/** A parsed cron field's allowed values, plus the day rules only EventBridge's day fields have. */
interface CronSpec {
  kind: 'cron';
  expression: string;
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  /** `undefined` when the field is `?`. */
  dayOfMonth?: DayOfMonthRule;
  /** `undefined` when the field is `?`. */
  dayOfWeek?: DayOfWeekRule;
  months: ReadonlySet<number>;
  /** `undefined` for `*`: every year the service accepts. */
  years?: ReadonlySet<number>;
}

type DayOfMonthRule =
  | { kind: 'days'; days: ReadonlySet<number> }
  | { kind: 'last'; offset: number }
  | { kind: 'lastWeekday' }
  | { kind: 'nearestWeekday'; day: number };

type DayOfWeekRule =
  | { kind: 'days'; days: ReadonlySet<number> }
  /** `5L`: the last Thursday of the month. */
  | { kind: 'lastOfMonth'; day: number }
  /** `2#1`: the first Monday of the month. */
  | { kind: 'nth'; day: number; nth: number };

interface RateSpec {
  kind: 'rate';
  expression: string;
  /** The period in minutes. */
  everyMinutes: number;
}

export type ScheduleExpression = CronSpec | RateSpec;

/** The expression is not one EventBridge Scheduler accepts; the message says which part and why. */
export class ScheduleExpressionError extends Error {
  override readonly name = 'ScheduleExpressionError';
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
// EventBridge numbers days of the week 1 (Sunday) to 7 (Saturday).
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** The years EventBridge Scheduler's cron accepts. */
export const CRON_YEARS = { min: 1970, max: 2199 } as const;

interface FieldRange {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const FIELDS = {
  minutes: { name: 'minutes', min: 0, max: 59 },
  hours: { name: 'hours', min: 0, max: 23 },
  dayOfMonth: { name: 'day-of-month', min: 1, max: 31 },
  month: { name: 'month', min: 1, max: 12, names: MONTH_NAMES },
  dayOfWeek: { name: 'day-of-week', min: 1, max: 7, names: DAY_NAMES },
  year: { name: 'year', min: CRON_YEARS.min, max: CRON_YEARS.max },
} satisfies Record<string, FieldRange>;

function fail(message: string): never {
  throw new ScheduleExpressionError(message);
}

function parseValue(text: string, field: FieldRange): number {
  const named = field.names?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) return named + field.min;
  if (!/^\d+$/.test(text)) fail(`${field.name}: "${text}" is not a number${field.names ? ` or a name (${field.names.join(', ')})` : ''}`);
  const value = Number(text);
  if (value < field.min || value > field.max) fail(`${field.name}: ${value} is outside ${field.min}-${field.max}`);
  return value;
}

/** `*`, `a`, `a-b`, `*\/n`, `a/n`, `a-b/n` and comma lists of them. */
function parseList(text: string, field: FieldRange): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    if (part === '') fail(`${field.name}: empty item in "${text}"`);
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined) fail(`${field.name}: "${part}" has more than one /`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) fail(`${field.name}: the step in "${part}" must be a positive whole number`);
      step = Number(stepText);
    }
    let from: number;
    let to: number;
    if (range === '*') {
      from = field.min;
      to = field.max;
    } else if (range!.includes('-')) {
      const [a, b, more] = range!.split('-');
      if (more !== undefined || !a || !b) fail(`${field.name}: "${part}" is not a range like 1-5`);
      from = parseValue(a, field);
      to = parseValue(b, field);
      if (from > to) fail(`${field.name}: the range "${range}" runs backwards`);
    } else {
      from = parseValue(range!, field);
      // `a/n` means from a to the end of the field, every n.
      to = stepText === undefined ? from : field.max;
    }
    for (let value = from; value <= to; value += step) values.add(value);
  }
  return values;
}

function parseDayOfMonth(text: string): DayOfMonthRule | undefined {
  const field = FIELDS.dayOfMonth;
  if (text === '?') return undefined;
  const upper = text.toUpperCase();
  if (upper === 'L') return { kind: 'last', offset: 0 };
  if (upper === 'LW') return { kind: 'lastWeekday' };
  const lastOffset = /^L-(\d+)$/.exec(upper);
  if (lastOffset) {
    const offset = Number(lastOffset[1]);
    if (offset > 30) fail(`${field.name}: "L-${offset}" reaches before the first day of any month`);
    return { kind: 'last', offset };
  }
  const weekday = /^(\d+)W$/.exec(upper);
  if (weekday) return { kind: 'nearestWeekday', day: parseValue(weekday[1]!, field) };
  if (/[LW#]/.test(upper)) fail(`${field.name}: "${text}" — L and W are allowed only as L, L-n, LW or nW (e.g. 15W)`);
  return { kind: 'days', days: parseList(text, field) };
}

function parseDayOfWeek(text: string): DayOfWeekRule | undefined {
  const field = FIELDS.dayOfWeek;
  if (text === '?') return undefined;
  const upper = text.toUpperCase();
  if (upper === 'L') return { kind: 'days', days: new Set([7]) };
  const last = /^([A-Z]+|\d)L$/.exec(upper);
  if (last) return { kind: 'lastOfMonth', day: parseValue(last[1]!, field) };
  const nth = /^([A-Z]+|\d)#(\d)$/.exec(upper);
  if (nth) {
    const which = Number(nth[2]);
    if (which < 1 || which > 5) fail(`${field.name}: in "${text}" the week after # must be 1-5`);
    return { kind: 'nth', day: parseValue(nth[1]!, field), nth: which };
  }
  if (/[LW#]/.test(upper)) fail(`${field.name}: "${text}" — use nL (last such day of the month) or n#k (k-th such day); W belongs to day-of-month`);
  return { kind: 'days', days: parseList(text, field) };
}

function parseCron(expression: string, body: string): CronSpec {
  const parts = body.trim().split(/\s+/);
  if (parts.length !== 6) fail(`cron needs 6 fields (minutes hours day-of-month month day-of-week year), got ${parts.length}`);
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = parts as [string, string, string, string, string, string];
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    fail('exactly one of day-of-month and day-of-week must be ?, e.g. cron(0 3 * * ? *) or cron(0 3 ? * MON-FRI *)');
  }
  for (const [text, field] of [
    [minutes, FIELDS.minutes],
    [hours, FIELDS.hours],
    [month, FIELDS.month],
    [year, FIELDS.year],
  ] as const) {
    if (text.includes('?') || /[LW#]/i.test(text.replace(/[A-Z]{3}/gi, ''))) fail(`${field.name}: "${text}" — ?, L, W and # belong to the day fields only`);
  }
  const spec: CronSpec = {
    kind: 'cron',
    expression,
    minutes: parseList(minutes, FIELDS.minutes),
    hours: parseList(hours, FIELDS.hours),
    months: parseList(month, FIELDS.month),
  };
  const dom = parseDayOfMonth(dayOfMonth);
  const dow = parseDayOfWeek(dayOfWeek);
  if (dom) spec.dayOfMonth = dom;
  if (dow) spec.dayOfWeek = dow;
  if (year !== '*') spec.years = parseList(year, FIELDS.year);
  return spec;
}

const RATE_UNITS: Record<string, number> = { minute: 1, minutes: 1, hour: 60, hours: 60, day: 1_440, days: 1_440 };

function parseRate(expression: string, body: string): RateSpec {
  const match = /^\s*(\d+)\s+([a-z]+)\s*$/.exec(body);
  if (!match) fail('rate needs a whole number and a unit, e.g. rate(12 hours)');
  const value = Number(match[1]);
  const unit = match[2]!;
  if (!(unit in RATE_UNITS)) fail(`rate unit "${unit}" must be minutes, hours or days`);
  if (value < 1) fail('rate value must be at least 1');
  // The service insists on singular for 1 and plural otherwise; saying so beats its terse refusal.
  const plural = unit.endsWith('s');
  if (value === 1 && plural) fail(`rate(1 ${unit}) must be written rate(1 ${unit.slice(0, -1)})`);
  if (value > 1 && !plural) fail(`rate(${value} ${unit}) must be written rate(${value} ${unit}s)`);
  return { kind: 'rate', expression, everyMinutes: value * RATE_UNITS[unit]! };
}

/** Parses a recurring EventBridge Scheduler expression; throws ScheduleExpressionError naming the problem. */
export function parseScheduleExpression(expression: string): ScheduleExpression {
  const match = /^(cron|rate|at)\((.*)\)$/s.exec(expression.trim());
  if (!match) fail('schedule must be cron(min hour day-of-month month day-of-week year) or rate(N minutes|hours|days)');
  const [, kind, body] = match as unknown as [string, string, string];
  if (kind === 'at') fail('at(...) runs once; work detection recurs, so use cron(...) or rate(...)');
  return kind === 'cron' ? parseCron(expression.trim(), body) : parseRate(expression.trim(), body);
}

/** zod refinement for schemas: the expression parses, else its message is the issue. */
export const ScheduleExpressionSchema = z
  .string()
  .max(256)
  .superRefine((expression, context) => {
    try {
      parseScheduleExpression(expression);
    } catch (error) {
      if (!(error instanceof ScheduleExpressionError)) throw error;
      context.addIssue({ code: 'custom', message: `schedule ${expression}: ${error.message}` });
    }
  })
  .describe('EventBridge Scheduler expression: cron(minutes hours day-of-month month day-of-week year) or rate(N minutes|hours|days)');

/** Whether `timeZone` is an IANA zone this runtime knows (Intl). */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

// --- evaluation ------------------------------------------------------------------------------

interface LocalDate {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The wall-clock fields of `instant` in `timeZone`. */
function wallClock(instant: number, timeZone: string): LocalDate & { hour: number; minute: number; second: number } {
  const fields: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(instant))) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  return { year: fields.year!, month: fields.month!, day: fields.day!, hour: fields.hour!, minute: fields.minute!, second: fields.second! };
}

/** Milliseconds `timeZone` is ahead of UTC at `instant`. */
function zoneOffset(instant: number, timeZone: string): number {
  const w = wallClock(instant, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/**
 * The instant a wall-clock minute happens in `timeZone`; undefined when it does not exist (skipped
 * by a daylight-saving change). A minute that happens twice (clocks going back) gives the first.
 */
function instantOf(date: LocalDate, hour: number, minute: number, timeZone: string): number | undefined {
  const asUtc = Date.UTC(date.year, date.month - 1, date.day, hour, minute);
  const candidates = new Set([asUtc - zoneOffset(asUtc, timeZone)]);
  for (const probe of [asUtc - 86_400_000, asUtc + 86_400_000]) candidates.add(asUtc - zoneOffset(probe, timeZone));
  const matching = [...candidates]
    .filter((instant) => {
      const w = wallClock(instant, timeZone);
      return w.year === date.year && w.month === date.month && w.day === date.day && w.hour === hour && w.minute === minute;
    })
    .sort((a, b) => a - b);
  return matching[0];
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** 1 (Sunday) to 7 (Saturday), as EventBridge numbers them. */
function dayOfWeek(date: LocalDate): number {
  return new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay() + 1;
}

function isWeekday(year: number, month: number, day: number): boolean {
  const dow = dayOfWeek({ year, month, day });
  return dow >= 2 && dow <= 6;
}

function matchesDayOfMonth(rule: DayOfMonthRule, date: LocalDate): boolean {
  const last = daysInMonth(date.year, date.month);
  switch (rule.kind) {
    case 'days':
      return rule.days.has(date.day);
    case 'last':
      return date.day === last - rule.offset;
    case 'lastWeekday': {
      let day = last;
      while (!isWeekday(date.year, date.month, day)) day -= 1;
      return date.day === day;
    }
    case 'nearestWeekday': {
      // The weekday nearest to the given day, never crossing into another month.
      const target = Math.min(rule.day, last);
      let day = target;
      if (!isWeekday(date.year, date.month, target)) {
        const dow = dayOfWeek({ year: date.year, month: date.month, day: target });
        if (dow === 7) day = target === 1 ? 3 : target - 1; // Saturday → Friday, or Monday the 3rd
        else day = target === last ? target - 2 : target + 1; // Sunday → Monday, or Friday before
      }
      return date.day === day;
    }
  }
}

function matchesDayOfWeek(rule: DayOfWeekRule, date: LocalDate): boolean {
  const dow = dayOfWeek(date);
  switch (rule.kind) {
    case 'days':
      return rule.days.has(dow);
    case 'lastOfMonth':
      return dow === rule.day && date.day + 7 > daysInMonth(date.year, date.month);
    case 'nth':
      return dow === rule.day && Math.ceil(date.day / 7) === rule.nth;
  }
}

function matchesDay(spec: CronSpec, date: LocalDate): boolean {
  if (spec.years && !spec.years.has(date.year)) return false;
  if (!spec.months.has(date.month)) return false;
  if (spec.dayOfMonth) return matchesDayOfMonth(spec.dayOfMonth, date);
  return spec.dayOfWeek ? matchesDayOfWeek(spec.dayOfWeek, date) : false;
}

function nextDate(date: LocalDate): LocalDate {
  const next = new Date(Date.UTC(date.year, date.month - 1, date.day + 1));
  return { year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate() };
}

/**
 * The first time strictly after `after` that the expression fires in `timeZone`, or undefined when
 * it never fires again. A rate fires every period counted from `anchor` (when the schedule was
 * put), as EventBridge Scheduler counts it from the schedule's creation.
 */
export function nextFireTime(
  expression: ScheduleExpression | string,
  options: { after: Date; timeZone: string; anchor?: Date },
): Date | undefined {
  const spec = typeof expression === 'string' ? parseScheduleExpression(expression) : expression;
  const after = options.after.getTime();
  if (spec.kind === 'rate') {
    const period = spec.everyMinutes * 60_000;
    const anchor = (options.anchor ?? options.after).getTime();
    const periods = Math.max(0, Math.floor((after - anchor) / period)) + 1;
    return new Date(anchor + periods * period);
  }
  const minutes = [...spec.minutes].sort((a, b) => a - b);
  const hours = [...spec.hours].sort((a, b) => a - b);
  const start = wallClock(after, options.timeZone);
  let date: LocalDate = { year: start.year, month: start.month, day: start.day };
  const lastYear = spec.years ? Math.max(...spec.years) : CRON_YEARS.max;
  // Day by day is plenty fast for a scheduler that asks once per firing, and needs no special
  // cases for month lengths, L/W/# rules or daylight-saving changes.
  while (date.year <= lastYear) {
    if (matchesDay(spec, date)) {
      for (const hour of hours) {
        for (const minute of minutes) {
          const instant = instantOf(date, hour, minute, options.timeZone);
          if (instant !== undefined && instant > after) return new Date(instant);
        }
      }
    }
    date = nextDate(date);
  }
  return undefined;
}

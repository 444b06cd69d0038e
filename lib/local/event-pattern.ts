// EventBridge event-pattern matching for the subset Cahoots rules use: exact values, arrays as OR,
// nested fields (e.g. inside `detail`), prefix, suffix, equals-ignore-case, anything-but, exists and
// numeric ranges. Patterns are validated up front, as PutRule would, so a typo fails at start-up.
import { LocalRuntimeError } from './errors';

type Scalar = string | number | boolean | null;
export type ContentFilter =
  | { prefix: string }
  | { suffix: string }
  | { 'equals-ignore-case': string }
  | { 'anything-but': Scalar | Scalar[] | { prefix: string } | { suffix: string } }
  | { exists: boolean }
  | { numeric: (string | number)[] };
export type PatternAlternative = Scalar | ContentFilter;
export interface EventPattern {
  [field: string]: EventPattern | PatternAlternative[];
}

export class InvalidEventPatternError extends LocalRuntimeError {
  readonly code = 'InvalidEventPattern';
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`Invalid event pattern at ${path || '<root>'}: ${reason}`);
  }
}

const NUMERIC_OPERATORS = new Set(['<', '<=', '=', '>', '>=']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): value is Scalar {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

function validateFilter(filter: Record<string, unknown>, path: string): void {
  const keys = Object.keys(filter);
  if (keys.length !== 1) throw new InvalidEventPatternError(path, 'a content filter has exactly one key');
  const [key] = keys as [string];
  const value = filter[key];
  switch (key) {
    case 'prefix':
    case 'suffix':
    case 'equals-ignore-case':
      if (typeof value !== 'string') throw new InvalidEventPatternError(path, `${key} takes a string`);
      return;
    case 'exists':
      if (typeof value !== 'boolean') throw new InvalidEventPatternError(path, 'exists takes true or false');
      return;
    case 'anything-but':
      if (isScalar(value)) return;
      if (Array.isArray(value) && value.length > 0 && value.every(isScalar)) return;
      if (isPlainObject(value) && Object.keys(value).length === 1 && (typeof value.prefix === 'string' || typeof value.suffix === 'string')) {
        return;
      }
      throw new InvalidEventPatternError(path, 'anything-but takes a value, a list of values, {prefix} or {suffix}');
    case 'numeric': {
      const ok =
        Array.isArray(value) &&
        value.length >= 2 &&
        value.length % 2 === 0 &&
        value.every((item, i) => (i % 2 === 0 ? NUMERIC_OPERATORS.has(item as string) : typeof item === 'number'));
      if (!ok) throw new InvalidEventPatternError(path, 'numeric takes operator/number pairs, e.g. [">", 0, "<=", 5]');
      return;
    }
    default:
      throw new InvalidEventPatternError(path, `unsupported content filter ${JSON.stringify(key)}`);
  }
}

function validateNode(node: unknown, path: string): void {
  if (!isPlainObject(node) || Object.keys(node).length === 0) {
    throw new InvalidEventPatternError(path, 'must be a non-empty object');
  }
  for (const [key, value] of Object.entries(node)) {
    const at = path ? `${path}.${key}` : key;
    if (Array.isArray(value)) {
      if (value.length === 0) throw new InvalidEventPatternError(at, 'a list of values must not be empty');
      for (const alternative of value) {
        if (isPlainObject(alternative)) validateFilter(alternative, at);
        else if (!isScalar(alternative)) throw new InvalidEventPatternError(at, 'lists hold values or content filters');
      }
    } else if (isPlainObject(value)) {
      validateNode(value, at);
    } else {
      // EventBridge refuses `{"source": "cahoots"}`: leaf values must be lists.
      throw new InvalidEventPatternError(at, 'leaf values must be lists, e.g. ["cahoots"]');
    }
  }
}

export function validateEventPattern(pattern: unknown): asserts pattern is EventPattern {
  validateNode(pattern, '');
}

function numericMatches(conditions: (string | number)[], value: number): boolean {
  for (let i = 0; i < conditions.length; i += 2) {
    const operator = conditions[i] as string;
    const bound = conditions[i + 1] as number;
    const ok =
      operator === '<' ? value < bound
      : operator === '<=' ? value <= bound
      : operator === '=' ? value === bound
      : operator === '>' ? value > bound
      : value >= bound;
    if (!ok) return false;
  }
  return true;
}

function matchesAlternative(alternative: PatternAlternative, field: unknown, values: readonly unknown[]): boolean {
  if (!isPlainObject(alternative)) return values.some((value) => value === alternative);
  const filter = alternative as Record<string, unknown>;
  if ('exists' in filter) {
    // exists applies to leaves only: an object is not "a value that exists".
    const present = field !== undefined && !isPlainObject(field);
    return filter.exists ? present : field === undefined;
  }
  if (field === undefined) return false;
  const strings = values.filter((value): value is string => typeof value === 'string');
  if ('prefix' in filter) return strings.some((value) => value.startsWith(filter.prefix as string));
  if ('suffix' in filter) return strings.some((value) => value.endsWith(filter.suffix as string));
  if ('equals-ignore-case' in filter) {
    const wanted = (filter['equals-ignore-case'] as string).toLowerCase();
    return strings.some((value) => value.toLowerCase() === wanted);
  }
  if ('numeric' in filter) {
    return values.some((value) => typeof value === 'number' && numericMatches(filter.numeric as (string | number)[], value));
  }
  if ('anything-but' in filter) {
    const excluded = filter['anything-but'];
    if (isPlainObject(excluded)) {
      if (typeof excluded.prefix === 'string') return strings.some((value) => !value.startsWith(excluded.prefix as string));
      return strings.some((value) => !value.endsWith(excluded.suffix as string));
    }
    const list = Array.isArray(excluded) ? excluded : [excluded];
    return values.some((value) => !list.includes(value as Scalar));
  }
  return false;
}

function matchesNode(pattern: EventPattern, value: unknown): boolean {
  for (const [key, expected] of Object.entries(pattern)) {
    const field = isPlainObject(value) ? value[key] : undefined;
    if (Array.isArray(expected)) {
      // An array in the event matches when any of its elements matches.
      const values = Array.isArray(field) ? field : [field];
      if (!expected.some((alternative) => matchesAlternative(alternative, field, values))) return false;
    } else if (Array.isArray(field)) {
      // A nested pattern against an array of objects matches when one of the objects does.
      if (!field.some((item) => matchesNode(expected, item))) return false;
    } else if (!matchesNode(expected, field)) {
      return false;
    }
  }
  return true;
}

/** Whether an event (the EventBridge envelope: source, detail-type, detail …) matches a validated pattern. */
export function matchesEventPattern(pattern: EventPattern, event: unknown): boolean {
  return matchesNode(pattern, event);
}

// EventBridge event-pattern matching for what the product's rules use: exact values, a list of
// them as OR, and nested fields (e.g. inside `detail`). An array in the event matches when one of
// its elements does. Content filters (prefix, anything-but, numeric …) are refused rather than
// half-supported; add one here, with its test, when a rule needs it. Patterns are validated up
// front, as PutRule would, so a typo fails at start-up.
import { LocalRuntimeError } from './errors';

type Scalar = string | number | boolean | null;
export interface EventPattern {
  [field: string]: EventPattern | Scalar[];
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

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): value is Scalar {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
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
        if (isPlainObject(alternative)) {
          throw new InvalidEventPatternError(at, `content filter ${JSON.stringify(alternative)} is not supported locally; list exact values`);
        }
        if (!isScalar(alternative)) throw new InvalidEventPatternError(at, 'lists hold exact values');
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

function matchesNode(pattern: EventPattern, value: unknown): boolean {
  for (const [key, expected] of Object.entries(pattern)) {
    const field = isPlainObject(value) ? value[key] : undefined;
    if (Array.isArray(expected)) {
      const values: unknown[] = Array.isArray(field) ? field : [field];
      if (field === undefined || !values.some((v) => expected.includes(v as Scalar))) return false;
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

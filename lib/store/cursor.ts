// Opaque paging cursors: base64url of the query's LastEvaluatedKey, checked on the way back in so
// a garbage or foreign cursor becomes InvalidCursorError instead of a DynamoDB validation crash.
import { InvalidCursorError } from './errors';

const VERSION = 1;
const MAX_CURSOR_LENGTH = 4096;

export interface CursorExpectation {
  /** Exactly the attribute names the query's LastEvaluatedKey has (table keys + index keys). */
  attributes: readonly string[];
  /** Attributes whose value is fixed by the query (its partition key) — binds a cursor to it. */
  equal: Readonly<Record<string, string>>;
  /** Attributes whose value must start with a prefix (the sort-key range the query reads). */
  prefix?: Readonly<Record<string, string>>;
}

export function encodeCursor(lastEvaluatedKey: Record<string, unknown> | undefined): string | undefined {
  if (!lastEvaluatedKey) return undefined;
  return Buffer.from(JSON.stringify({ v: VERSION, k: lastEvaluatedKey }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined, expect: CursorExpectation): Record<string, string> | undefined {
  if (cursor === undefined) return undefined;
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH) throw new InvalidCursorError('wrong length');
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidCursorError('not base64url');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('not a cursor this API issued');
  }
  if (typeof parsed !== 'object' || parsed === null || (parsed as { v?: unknown }).v !== VERSION) {
    throw new InvalidCursorError('not a cursor this API issued');
  }
  const key = (parsed as { k?: unknown }).k;
  if (typeof key !== 'object' || key === null || Array.isArray(key)) throw new InvalidCursorError('missing key');
  const entries = Object.entries(key);
  const names = entries.map(([k]) => k).sort();
  const wanted = [...expect.attributes].sort();
  if (names.length !== wanted.length || names.some((n, i) => n !== wanted[i])) {
    throw new InvalidCursorError('cursor belongs to a different listing');
  }
  const out: Record<string, string> = {};
  for (const [name, value] of entries) {
    if (typeof value !== 'string' || value.length === 0 || value.length > 2048) throw new InvalidCursorError(`bad ${name}`);
    out[name] = value;
  }
  for (const [name, value] of Object.entries(expect.equal)) {
    if (out[name] !== value) throw new InvalidCursorError('cursor belongs to a different listing');
  }
  for (const [name, prefix] of Object.entries(expect.prefix ?? {})) {
    if (!out[name]?.startsWith(prefix)) throw new InvalidCursorError('cursor belongs to a different listing');
  }
  return out;
}

// The small part of semver the dependency detectors need: comparing exact versions and testing
// one against the ranges npm advisories use (`<1.2.3`, `>=1.0.0 <1.4.2`, `=2.0.0`, `*`, joined
// by `||`). Anything else (`^`, `~`, `x`, hyphen ranges) is refused with UnsupportedRangeError
// rather than guessed. Prereleases order before their release (1.0.0-rc.1 < 1.0.0) and are
// matched like any version: for a vulnerability, reporting too much beats missing one.
import { CahootsError } from '../domain/errors';

export interface Version {
  major: number;
  minor: number;
  patch: number;
  prerelease: (string | number)[];
}

export class UnsupportedRangeError extends CahootsError {
  readonly code = 'UnsupportedRange';
  readonly stepFunctionsError = 'Detection.UnsupportedRange';
  readonly permanent = true;
}

const VERSION = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** The version, or undefined when the text is not an exact semver version. */
export function parseVersion(text: string): Version | undefined {
  const match = VERSION.exec(text.trim());
  if (!match) return undefined;
  return {
    major: Number(match[1]),
    minor: Number(match[2]),
    patch: Number(match[3]),
    prerelease: match[4] ? match[4].split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : part)) : [],
  };
}

/** Negative when a < b, 0 when equal, positive when a > b (build metadata is ignored, as semver says). */
export function compareVersions(a: Version, b: Version): number {
  const core = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (core !== 0) return Math.sign(core);
  if (a.prerelease.length === 0 && b.prerelease.length === 0) return 0;
  if (a.prerelease.length === 0) return 1;
  if (b.prerelease.length === 0) return -1;
  for (let i = 0; i < Math.max(a.prerelease.length, b.prerelease.length); i++) {
    const x = a.prerelease[i];
    const y = b.prerelease.at(i);
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    // Numeric identifiers order before alphanumeric ones.
    if (typeof x === 'number' && typeof y === 'number') return Math.sign(x - y);
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

type Operator = '<' | '<=' | '>' | '>=' | '=';
interface Comparator {
  operator: Operator;
  version: Version;
}

function parseComparator(text: string, range: string): Comparator {
  const match = /^(<=|>=|<|>|=)?\s*(.+)$/.exec(text);
  const version = match ? parseVersion(match[2]!) : undefined;
  if (!match || !version) throw new UnsupportedRangeError(`cannot read "${text}" in the version range "${range}": only <, <=, >, >=, = and exact versions are understood`);
  return { operator: (match[1] ?? '=') as Operator, version };
}

function holds(version: Version, { operator, version: bound }: Comparator): boolean {
  const order = compareVersions(version, bound);
  switch (operator) {
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
    case '=':
      return order === 0;
  }
}

/** Whether `version` (exact) is in `range`; throws UnsupportedRangeError for a form it does not read. */
export function satisfies(version: string, range: string): boolean {
  const parsed = parseVersion(version);
  if (!parsed) throw new UnsupportedRangeError(`"${version}" is not an exact version`);
  return range.split('||').some((alternative) => {
    // "< 1.2.3" is written with a space now and then; glue operators to their version first.
    const words = alternative.trim().replace(/(<=|>=|<|>|=)\s+/g, '$1').split(/\s+/).filter(Boolean);
    if (words.length === 0 || (words.length === 1 && words[0] === '*')) return true;
    return words.map((word) => parseComparator(word, range)).every((comparator) => holds(parsed, comparator));
  });
}

// The version-range matcher the vulnerable-dependency detector uses on advisories' ranges.
import { describe, expect, it } from 'vitest';
import { compareVersions, parseVersion, satisfies, UnsupportedRangeError } from '../../lib/detection/semver-range';

const order = (a: string, b: string) => compareVersions(parseVersion(a)!, parseVersion(b)!);

describe('semver ranges of advisories', () => {
  it('orders versions, prereleases before their release', () => {
    expect(order('1.2.3', '1.2.10')).toBe(-1);
    expect(order('2.0.0', '1.99.99')).toBe(1);
    expect(order('1.0.0-rc.1', '1.0.0')).toBe(-1);
    expect(order('1.0.0-alpha', '1.0.0-alpha.1')).toBe(-1);
    expect(order('1.0.0-alpha.2', '1.0.0-alpha.10')).toBe(-1);
    expect(order('1.0.0-2', '1.0.0-alpha')).toBe(-1);
    expect(order('1.0.0+build.5', '1.0.0')).toBe(0);
    expect(parseVersion('1.2')).toBeUndefined();
  });

  it('reads the forms advisories use', () => {
    expect(satisfies('4.17.15', '<4.17.19')).toBe(true);
    expect(satisfies('4.17.19', '<4.17.19')).toBe(false);
    expect(satisfies('1.2.0', '>=1.0.0 <1.2.3')).toBe(true);
    expect(satisfies('1.2.3', '>=1.0.0 <1.2.3')).toBe(false);
    expect(satisfies('0.2.0', '<0.2.1 || >=1.0.0 <1.2.3')).toBe(true);
    expect(satisfies('0.9.0', '<0.2.1 || >=1.0.0 <1.2.3')).toBe(false);
    expect(satisfies('2.0.0', '<= 2.0.0')).toBe(true);
    expect(satisfies('2.0.1', '>2.0.0 <=2.0.1')).toBe(true);
    expect(satisfies('3.0.0', '=3.0.0')).toBe(true);
    expect(satisfies('3.0.0', '3.0.1')).toBe(false);
    expect(satisfies('9.9.9', '*')).toBe(true);
    expect(satisfies('1.0.0-beta.1', '<1.0.0')).toBe(true);
  });

  it('refuses what it does not read instead of guessing', () => {
    expect(() => satisfies('1.2.3', '^1.0.0')).toThrow(UnsupportedRangeError);
    expect(() => satisfies('1.2.3', '1.0.0 - 2.0.0')).toThrow(/cannot read "-"/);
    expect(() => satisfies('latest', '<1.0.0')).toThrow(/"latest" is not an exact version/);
  });
});

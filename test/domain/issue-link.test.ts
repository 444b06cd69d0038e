// Which issue a web address names: the webhook, the issue detector and the pipeline rely on it to
// agree on an issue's finding.
import { describe, expect, it } from 'vitest';
import { FingerprintSchema } from '../../lib/domain/finding';
import { issueFingerprint, issueOfUrl } from '../../lib/domain/issue-link';

describe('issueOfUrl', () => {
  it("reads an issue's address and a comment's address on it alike, keeping the host's spelling", () => {
    expect(issueOfUrl('https://github.com/Acme/shop.js/issues/12')).toEqual({ repository: 'Acme/shop.js', number: 12 });
    expect(issueOfUrl('https://github.com/Acme/shop.js/issues/12#issuecomment-99')).toEqual({ repository: 'Acme/shop.js', number: 12 });
    expect(issueOfUrl('https://ghe.corp.example/acme/shop/issues/3?x=1')).toEqual({ repository: 'acme/shop', number: 3 });
  });

  it('names no issue for a pull request, a repository, a deeper path, a bad number or no URL', () => {
    for (const url of [
      'https://github.com/acme/shop/pull/12',
      'https://github.com/acme/shop',
      'https://github.com/acme/shop/issues/12/events',
      'https://github.com/x/acme/shop/issues/12',
      'https://github.com/acme/shop/issues/twelve',
      'https://github.com/acme/sh%20op/issues/12',
      'failing-tests:0badc0de',
      '',
      undefined,
    ]) {
      expect(issueOfUrl(url), String(url)).toBeUndefined();
    }
  });

  it('gives a fingerprint the findings schema accepts', () => {
    const fingerprint = issueFingerprint(issueOfUrl('https://github.com/acme/shop/issues/7#issuecomment-1')!);
    expect(fingerprint).toBe('issue:acme/shop#7');
    expect(FingerprintSchema.parse(fingerprint)).toBe(fingerprint);
  });
});

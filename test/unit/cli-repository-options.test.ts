// The CLI's reading of a remote --repo: which GitHub API a repository URL gets, what counts as a
// remote, and --deliver. GITHUB_API_URL is set by CI systems for every job, so it must only apply
// to repositories on its own host.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../lib/cli/errors';
import { looksLikeRemote, parseDeliver, parseHttpsUrl, resolveGitHubApiUrl } from '../../lib/cli/options';

describe('resolveGitHubApiUrl', () => {
  const repo = (url: string) => new URL(url);

  it('takes --github-api-url as given, without a trailing slash', () => {
    expect(resolveGitHubApiUrl(repo('https://git.example.com/a/b.git'), 'https://git.example.com/api/v3/', {})).toBe('https://git.example.com/api/v3');
  });

  it('takes GITHUB_API_URL only for a repository on the same host', () => {
    const env = { GITHUB_API_URL: 'https://ghe.example.com/api/v3' };
    expect(resolveGitHubApiUrl(repo('https://ghe.example.com/acme/shop.git'), undefined, env)).toBe('https://ghe.example.com/api/v3');
    expect(resolveGitHubApiUrl(repo('https://gitlab.example.com/acme/shop.git'), undefined, env)).toBeUndefined();
  });

  it('needs no setting for github.com, whose API is the default', () => {
    expect(resolveGitHubApiUrl(repo('https://github.com/acme/shop.git'), undefined, { GITHUB_API_URL: 'https://api.github.com' })).toBeUndefined();
    expect(resolveGitHubApiUrl(repo('https://gitlab.com/acme/shop.git'), undefined, { GITHUB_API_URL: 'https://api.github.com' })).toBeUndefined();
  });

  it('names the flag or variable when the URL is unusable', () => {
    expect(() => resolveGitHubApiUrl(repo('https://github.com/a/b.git'), 'http://ghe.example.com/api/v3', {})).toThrow(/--github-api-url: plain http:\/\//);
    expect(() => resolveGitHubApiUrl(repo('https://github.com/a/b.git'), undefined, { GITHUB_API_URL: 'nope' })).toThrow(/GITHUB_API_URL: "nope" is not a URL/);
  });
});

describe('remote --repo values', () => {
  it('tells URLs and ssh addresses from paths', () => {
    expect(looksLikeRemote('https://github.com/acme/shop.git')).toBe(true);
    expect(looksLikeRemote('git@github.com:acme/shop.git')).toBe(true);
    expect(looksLikeRemote('ssh://git@github.com/acme/shop.git')).toBe(true);
    expect(looksLikeRemote('~/code/shop')).toBe(false);
    expect(looksLikeRemote('./shop:old')).toBe(false);
  });

  it('accepts plain http only for loopback hosts', () => {
    expect(parseHttpsUrl('--repo', 'http://127.0.0.1:8080/a/b.git', 'x').host).toBe('127.0.0.1:8080');
    expect(parseHttpsUrl('--repo', 'http://localhost/a/b.git', 'x').hostname).toBe('localhost');
    expect(parseHttpsUrl('--repo', 'http://[::1]:9/a/b.git', 'x').hostname).toBe('[::1]');
    expect(() => parseHttpsUrl('--repo', 'http://10.0.0.5/a/b.git', 'x')).toThrow(UsageError);
  });

  it('parses --deliver', () => {
    expect(parseDeliver(undefined)).toBeUndefined();
    expect(parseDeliver('pr')).toBe('pr');
    expect(parseDeliver('branch')).toBe('branch');
    expect(() => parseDeliver('pull-request')).toThrow(/--deliver must be "pr"/);
  });
});

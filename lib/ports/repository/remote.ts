// Which adapter serves a project's repository, decided from its `repo` settings alone:
// `repo.path` → the local checkout; `repo.url` on github.com, or any URL with `repo.apiUrl` set
// (GitHub Enterprise Server) → GitHub; any other https:// URL → plain HTTPS git.
import type { Repo } from '../../domain/project';
import { UnsupportedRepositoryError } from './errors';

export const GITHUB_API_URL = 'https://api.github.com';

export type RepositoryLocation =
  | { kind: 'path'; path: string }
  | { kind: 'https'; url: string }
  | { kind: 'github'; url: string; apiUrl: string; owner: string; name: string };

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Plain http:// carries the token in clear text, so it is accepted only where it never leaves the machine. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname.toLowerCase());
}

function parseHttpUrl(value: string, field: string): URL {
  if (/^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:/.test(value)) {
    throw new UnsupportedRepositoryError(`${field} ${value} is an ssh address, which Cahoots cannot fetch without a git binary; use the https:// URL of the repository`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UnsupportedRepositoryError(`${field} ${value} is not a valid URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UnsupportedRepositoryError(
      `${field} ${value} uses ${url.protocol.replace(':', '')}, which Cahoots cannot fetch without a git binary; use the https:// URL of the repository`,
    );
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new UnsupportedRepositoryError(
      `${field} ${value} uses plain http://, which would send the token unencrypted; use https:// (http:// is accepted for 127.0.0.1, localhost and [::1] only)`,
    );
  }
  if (url.password) {
    throw new UnsupportedRepositoryError(`${field} must not contain a password or token; store the token as a secret (docs/workspace.md)`);
  }
  return url;
}

/** Owner and repository name from the last two path segments: /acme/shop.git → acme, shop. */
function ownerAndName(url: URL): { owner: string; name: string } {
  const segments = url.pathname.split('/').filter(Boolean);
  const owner = segments.at(-2);
  const name = segments.at(-1)?.replace(/\.git$/, '');
  if (!owner || !name) {
    throw new UnsupportedRepositoryError(`repo url ${url.href} does not name a GitHub repository (expected https://<host>/<owner>/<repo>.git)`);
  }
  return { owner, name };
}

/** Classifies a project's repository; throws UnsupportedRepositoryError saying what to change. */
export function locateRepository(repo: Repo): RepositoryLocation {
  if (repo.path !== undefined) return { kind: 'path', path: repo.path };
  if (repo.url === undefined) throw new UnsupportedRepositoryError('the project names neither repo.url nor repo.path');
  const url = parseHttpUrl(repo.url, 'repo url');
  const onGitHub = url.hostname.toLowerCase() === 'github.com' || url.hostname.toLowerCase() === 'www.github.com';
  if (!onGitHub && repo.apiUrl === undefined) return { kind: 'https', url: url.href };
  const apiUrl = repo.apiUrl === undefined ? GITHUB_API_URL : parseHttpUrl(repo.apiUrl, 'repo apiUrl').href.replace(/\/+$/, '');
  return { kind: 'github', url: url.href, apiUrl, ...ownerAndName(url) };
}

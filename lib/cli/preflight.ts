// Checks made before a goal starts, so bad input costs nothing and writes nothing: the repository
// is a git repository with a checked-out branch (or a remote that answers with the configured
// token and has a default branch), every replay script reads and parses, every OpenAI-compatible
// server answers at all, and Bedrock has a region and credentials.
import { existsSync, promises as fsp, statSync } from 'node:fs';
import { resolve } from 'node:path';
import git, { Errors } from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import type { Secrets } from '../ports/index';
import * as z from 'zod';
import { ReplayScriptSchema } from '../models/providers/replay';
import type { ParsedModelSpec } from '../models/spec';
import { readOnlyGitFs } from '../workspace/git-fs';
import { UsageError } from './errors';

export interface RepoInfo {
  /** The repository's top directory (the given path may be inside it). */
  dir: string;
  /** The checked-out branch: the base of the goal branch. */
  branch: string;
  head: string;
  /**
   * Paths with changes that are not committed (modified, staged, deleted, untracked and not
   * ignored). The run starts from the commit `head`, so none of them is part of it.
   */
  uncommitted: string[];
}

export async function checkRepository(path: string | undefined, cwd = process.cwd()): Promise<RepoInfo> {
  if (path === undefined || path.trim() === '') {
    throw new UsageError('--repo is required: pass the path of a local git repository, e.g. --repo .', '--repo');
  }
  const absolute = resolve(cwd, path);
  if (!existsSync(absolute)) throw new UsageError(`--repo: ${absolute} does not exist; pass the path of a local git repository`, '--repo');
  if (!statSync(absolute).isDirectory()) throw new UsageError(`--repo: ${absolute} is a file, not a directory; pass the repository's directory`, '--repo');
  let dir: string;
  try {
    dir = await git.findRoot({ fs: readOnlyGitFs, filepath: absolute });
  } catch {
    throw new UsageError(`--repo: ${absolute} is not a git repository; run \`git init\` and commit your code there first, or point --repo at a clone`, '--repo');
  }
  const branch = await git.currentBranch({ fs: readOnlyGitFs, dir, fullname: false });
  if (!branch) throw new UsageError(`--repo: ${dir} has a detached HEAD; check out the branch the goal should start from (git switch <branch>)`, '--repo');
  let head: string;
  try {
    head = await git.resolveRef({ fs: readOnlyGitFs, dir, ref: 'HEAD' });
  } catch {
    throw new UsageError(`--repo: ${dir} has no commits on ${branch} yet; commit your code first (git add -A && git commit -m "Initial commit")`, '--repo');
  }
  return { dir, branch, head, uncommitted: await uncommittedPaths(dir) };
}

/** Paths whose working-tree or staged state differs from HEAD (git status, ignored files left out). */
export async function uncommittedPaths(dir: string): Promise<string[]> {
  const matrix = await git.statusMatrix({ fs: readOnlyGitFs, dir });
  // [path, HEAD, workdir, stage]: 1/1/1 is unchanged; anything else is a change of some kind.
  return matrix.filter(([, head, workdir, stage]) => !(head === 1 && workdir === 1 && stage === 1)).map(([path]) => path);
}

/** The line that tells the person their uncommitted changes stay out of the run, if there are any. */
export function uncommittedChangesNote(repo: RepoInfo): string | undefined {
  const count = repo.uncommitted.length;
  if (count === 0) return undefined;
  const shown = repo.uncommitted.slice(0, 3).join(', ') + (count > 3 ? ', …' : '');
  return (
    `note: ${count} uncommitted change${count === 1 ? '' : 's'} in ${repo.dir} (${shown}) ` +
    `${count === 1 ? 'is' : 'are'} not part of this run: the agents start from ${repo.branch} at ${repo.head.slice(0, 7)}. ` +
    'Commit them first to include them.'
  );
}

/** A repository on a git host: the pipeline clones it into the workspace and pushes the goal branch back. */
export interface RemoteRepoInfo {
  url: string;
  /** The GitHub REST API base when the host is a GitHub Enterprise Server (github.com needs none). */
  apiUrl?: string;
  /** Whether pull requests can be opened: github.com, or any host with an API base URL. */
  github: boolean;
  /** The remote's default branch (its HEAD): the base of the goal branch and of the pull request. */
  branch: string;
  head: string;
}

/** The secret (and user name) git sends to a host: GitHub takes a token as the password of `x-access-token`. */
export interface GitCredentialNames {
  token: string;
  username?: string;
  defaultUsername: string;
}

/**
 * Asks the remote for its refs (what `git ls-remote` does) with the token the pipeline will use,
 * so a wrong URL or token is a usage error now, and finds its default branch.
 */
export async function checkRemoteRepository(
  remote: { url: string; apiUrl?: string; github: boolean },
  credentials: { secrets: Secrets; names: GitCredentialNames },
): Promise<RemoteRepoInfo> {
  const tokenName = credentials.names.token;
  const hint = remote.github ? 'set GITHUB_TOKEN to a token that may read and push to it' : `set CAHOOTS_SECRET_${tokenName.toUpperCase().replace(/[^A-Z0-9]/g, '_')} to a token that may read and push to it`;
  let info: Awaited<ReturnType<typeof git.getRemoteInfo>>;
  try {
    info = await git.getRemoteInfo({
      http,
      url: remote.url,
      onAuth: async () => {
        const password = await credentials.secrets.get(tokenName);
        if (!password) return { cancel: true };
        const username = (credentials.names.username && (await credentials.secrets.get(credentials.names.username))) || credentials.names.defaultUsername;
        return { username, password };
      },
      // Nothing from onAuthFailure ends the attempt with the host's own 401.
      onAuthFailure: () => undefined,
    });
  } catch (error) {
    throw new UsageError(`--repo: ${remote.url} ${describeRemoteFailure(error, hint)}`, '--repo');
  }
  const target = typeof info.HEAD === 'string' ? info.HEAD : undefined;
  const branch = target?.startsWith('refs/heads/') ? target.slice('refs/heads/'.length) : undefined;
  const heads = (info.refs as { heads?: Record<string, string> } | undefined)?.heads ?? {};
  if (!branch || !heads[branch]) {
    throw new UsageError(`--repo: ${remote.url} has no default branch yet; push a first commit to it`, '--repo');
  }
  return { ...remote, branch, head: heads[branch] };
}

function describeRemoteFailure(error: unknown, hint: string): string {
  if (error instanceof Errors.HttpError) {
    const status = error.data.statusCode;
    if (status === 401 || status === 403) return `refused the credentials (HTTP ${status}); ${hint}`;
    if (status === 404) return `was not found (HTTP 404): check the URL, or ${hint}`;
    return `answered HTTP ${status}; check the URL`;
  }
  if (error instanceof Errors.UserCanceledError) return `asks for credentials and none are set; ${hint}`;
  if (error instanceof Errors.SmartHttpError || error instanceof Errors.ParseError) return 'did not answer as a git server; check the URL';
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return `could not be reached (${code ?? (error instanceof Error ? error.message : String(error))}); check the URL and your network`;
}

/** How long an OpenAI-compatible server may take to answer the probe. */
export const MODEL_PROBE_TIMEOUT_MS = 3_000;

export async function checkModels(models: readonly ParsedModelSpec[], options: { probeTimeoutMs?: number } = {}): Promise<void> {
  const probed = new Set<string>();
  for (const model of models) {
    if (model.provider === 'replay') await checkReplayScript(model.path);
    if (model.provider === 'bedrock' && !probed.has(`bedrock:${model.region ?? ''}`)) {
      probed.add(`bedrock:${model.region ?? ''}`);
      await checkBedrockAccess(model.region, options.probeTimeoutMs ?? MODEL_PROBE_TIMEOUT_MS);
    }
    if (model.provider === 'openai' && !probed.has(model.baseUrl)) {
      probed.add(model.baseUrl);
      await probeOpenAI(model.baseUrl, options.probeTimeoutMs ?? MODEL_PROBE_TIMEOUT_MS);
    }
  }
}

async function checkReplayScript(path: string): Promise<void> {
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(error as Error).message})`;
    throw new UsageError(`--model: the replay script ${path} ${reason}; check the path after "replay:"`, '--model');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--model: the replay script ${path} is not valid JSON (${(error as Error).message}); fix the file`, '--model');
  }
  const parsed = ReplayScriptSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'the top level';
    throw new UsageError(`--model: the replay script ${path} is not a valid script at ${where}: ${issue?.message ?? z.prettifyError(parsed.error)} (the format is in docs/models.md)`, '--model');
  }
}

/**
 * Bedrock needs a region and credentials from the SDK's default chain (environment, profile, SSO,
 * container or instance role). Both are resolved here, without calling Bedrock, so a missing one
 * is a usage error now rather than the first task's failure.
 */
async function checkBedrockAccess(region: string | undefined, timeoutMs: number): Promise<void> {
  const { BedrockRuntimeClient } = await import('@aws-sdk/client-bedrock-runtime');
  const client = new BedrockRuntimeClient(region ? { region } : {});
  try {
    try {
      await client.config.region();
    } catch {
      throw new UsageError('--model: Bedrock needs an AWS region: set AWS_REGION (or a region in your AWS profile), or use an inference-profile ARN', '--model');
    }
    try {
      await Promise.race([
        client.config.credentials(),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`no credentials within ${timeoutMs} ms`)), timeoutMs).unref()),
      ]);
    } catch (error) {
      throw new UsageError(
        `--model: Bedrock needs AWS credentials and none were found (${(error as Error).message.split('\n')[0]}); configure a profile (AWS_PROFILE) or environment credentials`,
        '--model',
      );
    }
  } finally {
    client.destroy();
  }
}

/**
 * Any HTTP answer (even 401 or 404) proves a server is there; only a refused connection, a name
 * that does not resolve or silence past the timeout means the model is unreachable.
 */
async function probeOpenAI(baseUrl: string, timeoutMs: number): Promise<void> {
  const url = `${baseUrl}/models`;
  try {
    const response = await fetch(url, { method: 'GET', signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
  } catch (error) {
    const reason = describeFetchFailure(error, timeoutMs);
    throw new UsageError(`--model: the model server at ${baseUrl} is unreachable (${reason}); start it (e.g. \`ollama serve\`) or fix the URL after "@"`, '--model');
  }
}

function describeFetchFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

// `cahoots run`: one goal end to end on a local git repository, or on a remote one it clones into
// the workspace and delivers to (a pushed branch, a pull request on GitHub), with the local
// runtime — the real state machine, store, queues, workers and git; only the model is whatever
// --model names. The person watches the goal's event log, answers approval gates, and gets a
// summary (or one JSON document) at the end. Exit 0 when the goal succeeded, 1 when it did not,
// 2 on bad input.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { sleep } from '../domain/backoff';
import { BranchNameSchema } from '../domain/common';
import { AllowedCommandSchema, DEFAULT_ALLOWED_COMMANDS, DEFAULT_DELIVERY_MODE, type DeliveryMode } from '../domain/project';
import { isTerminal } from '../domain/status';
import type { ParsedModelSpec } from '../models/spec';
import type { LocalRuntime } from '../local/runtime';
import type { RuntimeConfig } from '../runtime';
import type { CahootsApiClient } from './api-client';
import { autoApprover, budgetOfGate, promptApprover, type ApprovalGate, type Approver } from './approvals';
import { checkDataDir, lockDataDir, readDevServerInfo, resolveDataDir, type DataDirLock } from './data-dir';
import { ApiRequestError, EXIT, UsageError, type ExitCode } from './errors';
import { EventFollower } from './follow';
import { Output } from './output';
import { checkModels, checkRemoteRepository, checkRepository, uncommittedChangesNote, type RemoteRepoInfo, type RepoInfo } from './preflight';
import { GoalProgress } from './progress';
import {
  DELIVER_FLAG_VALUES,
  hasUrlScheme,
  looksLikeRemote,
  parseApproveMode,
  parseAutonomy,
  parseBudget,
  parseDeliver,
  parseHttpsUrl,
  parseModels,
  parsePositiveInteger,
  readRuntimeSettings,
  resolveGitHubApiUrl,
  type ApproveMode,
  type DeliverFlag,
} from './options';
import { renderSummary, summarizeRun, type RunSummary } from './summary';

export interface RunFlags {
  repo?: string;
  goal?: string;
  description?: string;
  model?: string[];
  autonomy?: string;
  budgetUsd?: string;
  parallel?: string;
  approve?: string;
  allow?: string[];
  deliver?: string;
  githubApiUrl?: string;
  dataDir?: string;
  json?: boolean;
  verbose?: boolean;
}

export interface RunIo {
  output?: Output;
  stdin?: Readable;
  /** Whether a person can answer questions (default: stdin is a TTY). */
  interactive?: boolean;
  /** How often the event log is read. */
  pollMs?: number;
}

interface RunPlan {
  title: string;
  description: string;
  models: ParsedModelSpec[];
  autonomy?: number;
  budgetUsd?: number;
  parallel?: number;
  approve: ApproveMode;
  allowedCommands: string[];
  repo: RepoInfo | RemoteRepoInfo;
  delivery: DeliveryMode;
  dataDir?: string;
  config: RuntimeConfig;
}

/** Everything that can be wrong with the command line, found before anything is written. */
export async function checkRunFlags(flags: RunFlags, interactive: boolean): Promise<RunPlan> {
  const autonomy = parseAutonomy(flags.autonomy);
  const parallel = parsePositiveInteger('--parallel', flags.parallel);
  const budgetUsd = parseBudget(flags.budgetUsd);
  const approve = parseApproveMode(flags.approve, interactive);
  const allowedCommands = [...DEFAULT_ALLOWED_COMMANDS, ...(flags.allow ?? [])].filter((c, i, all) => all.indexOf(c) === i);
  for (const command of flags.allow ?? []) {
    const ok = AllowedCommandSchema.safeParse(command);
    if (!ok.success) throw new UsageError(`--allow ${JSON.stringify(command)}: ${ok.error.issues[0]?.message ?? 'not a valid command prefix'}; give a plain command prefix such as --allow "node --test"`, '--allow');
  }
  const deliver = parseDeliver(flags.deliver);
  const goalText = (flags.goal ?? '').trim();
  const dataDir = flags.dataDir !== undefined ? resolveDataDir(flags.dataDir) : undefined;
  // Before the repository is read: an unusable data directory is the first thing to say.
  if (dataDir !== undefined) checkDataDir(dataDir);
  const repo = flags.repo !== undefined && looksLikeRemote(flags.repo.trim()) ? await checkRemote(flags.repo.trim(), flags) : await checkLocal(flags);
  if (!BranchNameSchema.safeParse(repo.branch).success) {
    const which = 'url' in repo ? `default branch of ${repo.url}` : 'checked-out branch';
    throw new UsageError(`--repo: the ${which} ${JSON.stringify(repo.branch)} is not a branch name Cahoots can work from (letters, digits, . _ / - only)`, '--repo');
  }
  const delivery = deliveryMode(repo, deliver);
  if (goalText === '') throw new UsageError('--goal is required: say what the team should do, e.g. --goal "Add a remove(id) function with tests"', '--goal');
  const models = parseModels(flags.model);
  const config = await readRuntimeSettings();
  await checkModels(models);
  const firstLine = goalText.split('\n')[0]!.trim();
  const title = firstLine.length <= 200 ? firstLine : `${firstLine.slice(0, 199).replace(/\s+\S*$/, '')}…`;
  return {
    title,
    description: [goalText, flags.description?.trim()].filter(Boolean).join('\n\n'),
    models,
    ...(autonomy !== undefined ? { autonomy } : {}),
    ...(budgetUsd !== undefined ? { budgetUsd } : {}),
    ...(parallel !== undefined ? { parallel } : {}),
    approve,
    allowedCommands,
    repo,
    delivery,
    ...(dataDir !== undefined ? { dataDir } : {}),
    config,
  };
}

async function checkLocal(flags: RunFlags): Promise<RepoInfo> {
  if (flags.githubApiUrl !== undefined) {
    throw new UsageError('--github-api-url applies to a repository on GitHub Enterprise Server; with a local --repo there is no host to talk to', '--github-api-url');
  }
  return checkRepository(flags.repo);
}

async function checkRemote(value: string, flags: RunFlags): Promise<RemoteRepoInfo> {
  if (!hasUrlScheme(value)) {
    throw new UsageError(`--repo: ${value} is an ssh address; give the repository's https:// URL (the token goes in GITHUB_TOKEN) or a local path`, '--repo');
  }
  const url = parseHttpsUrl('--repo', value, "the repository's https:// URL or a local path");
  const apiUrl = resolveGitHubApiUrl(url, flags.githubApiUrl);
  const github = apiUrl !== undefined || ['github.com', 'www.github.com'].includes(url.hostname.toLowerCase());
  const [{ LocalSecrets }, { REPOSITORY_SECRETS, DEFAULT_GIT_USERNAME }] = await Promise.all([import('../local/secrets'), import('../ports/repository/index')]);
  const names = github
    ? { token: REPOSITORY_SECRETS.githubToken, defaultUsername: DEFAULT_GIT_USERNAME }
    : { token: REPOSITORY_SECRETS.gitToken, username: REPOSITORY_SECRETS.gitUsername, defaultUsername: DEFAULT_GIT_USERNAME };
  return checkRemoteRepository({ url: url.href, ...(apiUrl ? { apiUrl } : {}), github }, { secrets: new LocalSecrets(), names });
}

/** What Deliver does: a pull request where the host can open one, unless --deliver says otherwise. */
function deliveryMode(repo: RepoInfo | RemoteRepoInfo, deliver: DeliverFlag | undefined): DeliveryMode {
  const canOpenPullRequests = 'url' in repo && repo.github;
  if (deliver === 'pr' && !canOpenPullRequests) {
    const why = 'url' in repo ? `${repo.url} is not on GitHub (pass --github-api-url for a GitHub Enterprise Server)` : 'a local --repo has no host to open one on; the result stays on a branch there';
    throw new UsageError(`--deliver pr: no pull request can be opened: ${why}; use --deliver branch`, '--deliver');
  }
  if (deliver) return DELIVER_FLAG_VALUES[deliver];
  return canOpenPullRequests ? 'pull-request' : 'branch';
}

export async function runGoalCommand(flags: RunFlags, io: RunIo = {}): Promise<ExitCode> {
  const output = io.output ?? new Output({ json: flags.json ?? false });
  const interactive = io.interactive ?? Boolean(process.stdin.isTTY);
  const plan = await checkRunFlags(flags, interactive);

  let lock: DataDirLock | undefined;
  if (plan.dataDir) {
    const dev = readDevServerInfo(plan.dataDir);
    if (dev) {
      throw new UsageError(`--data-dir: a cahoots dev server (${dev.url}, pid ${dev.pid}) holds ${plan.dataDir}; give it the goal over its API, stop it, or pass another --data-dir`, '--data-dir');
    }
    lock = lockDataDir(plan.dataDir, 'cahoots run');
  }
  // Working copies are scratch: the result lives on the goal branch in the repository itself, or
  // on the remote it was pushed to. A remote's mirror is kept in the data directory, to be fetched
  // rather than cloned again next time.
  const keptWorkspace = plan.config.workspaceRoot ?? ('url' in plan.repo && plan.dataDir ? join(plan.dataDir, 'workspaces') : undefined);
  const ownWorkspace = keptWorkspace ? undefined : mkdtempSync(`${tmpdir()}/cahoots-run-`);
  let local: LocalRuntime | undefined;
  try {
    const { startLocalRuntime } = await import('../local/runtime');
    const { queueUrls: _fromEnv, ...config } = plan.config;
    local = await startLocalRuntime({
      ...(plan.dataDir ? { dataDir: plan.dataDir } : {}),
      config: { ...config, defaultModels: plan.models.map((m) => m.spec), ...((keptWorkspace ?? ownWorkspace) ? { workspaceRoot: keptWorkspace ?? ownWorkspace } : {}) },
    });
    return await driveGoal(local, plan, flags, io, output);
  } finally {
    await local?.stop();
    lock?.release();
    if (ownWorkspace) rmSync(ownWorkspace, { recursive: true, force: true });
  }
}

/** Creates the goal through the API, follows it to its end answering gates, and reports. */
async function driveGoal(local: LocalRuntime, plan: RunPlan, flags: RunFlags, io: RunIo, output: Output): Promise<ExitCode> {
  const [{ CahootsApiClient }, { InProcessTransport }] = await Promise.all([import('./api-client'), import('./connect')]);
  let interrupted = 0;
  let goalId: string | undefined;
  let approver: Approver | undefined;
  const client = new CahootsApiClient(new InProcessTransport('local runtime', localPrincipal()));
  const onSignal = () => {
    interrupted++;
    if (interrupted > 1) process.exit(EXIT.interrupted);
    output.error('Interrupted: cancelling the goal (press Ctrl-C again to quit at once)…');
    if (goalId) {
      client
        .cancelGoal(goalId, 'interrupted at the terminal')
        .catch((error: unknown) => output.error(`Could not cancel goal ${goalId}: ${error instanceof Error ? error.message : String(error)}`));
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    output.info(`cahoots run · ${repoName(plan.repo)} (from ${plan.repo.branch} at ${plan.repo.head.slice(0, 7)}) · delivers ${plan.delivery === 'pull-request' ? 'a pull request' : 'a branch'}`);
    const uncommitted = 'url' in plan.repo ? undefined : uncommittedChangesNote(plan.repo);
    if (uncommitted) output.error(uncommitted);
    output.info(`models ${plan.models.map((m) => m.spec).join(' → ')} · approvals ${plan.approve}${plan.dataDir ? ` · data ${plan.dataDir}` : ''}`);
    const project = await findOrCreateProject(client, plan);
    const goal = await client.createGoal(project.id, {
      title: plan.title,
      description: plan.description,
      ...(plan.autonomy !== undefined ? { autonomyOverride: plan.autonomy } : {}),
      ...(plan.budgetUsd !== undefined ? { budgetOverrideUsd: plan.budgetUsd } : {}),
    });
    goalId = goal.id;
    approver = plan.approve === 'auto' ? autoApprover : promptApprover(output, io.stdin);
    const answerer = approver;
    const progress = new GoalProgress((line) => output.info(line), {
      expectedModel: (role, attempt) => {
        const policy = project.modelPolicy[role as keyof typeof project.modelPolicy] ?? plan.models.map((m) => m.spec);
        return policy[Math.min(policy.length - 1, Math.max(0, attempt - 1))];
      },
      verbose: flags.verbose ?? false,
    });
    const follower = new EventFollower(client, goal.id, 0, true);
    const { executionId } = goal;
    let pipelineEnded = !executionId;
    const outcome = executionId ? local.runner.waitForExecution(executionId).finally(() => (pipelineEnded = true)) : Promise.resolve(undefined);
    for (;;) {
      // Read after noting whether the pipeline had ended, so its last events are never missed.
      const ended = pipelineEnded;
      const events = await follower.next();
      progress.handle(events);
      for (const event of events) {
        if (event.type !== 'Goal.AwaitingApproval') continue;
        await answerGate(client, answerer, output, {
          goalId: goal.id,
          stage: (event.data.stage as ApprovalGate['stage']) ?? 'plan',
          costUsd: typeof event.data.costUsd === 'number' ? event.data.costUsd : 0,
          ...(typeof event.data.budgetUsd === 'number' ? { budgetUsd: event.data.budgetUsd } : {}),
          ...budgetOfGate(event.data),
          branch: goal.branch,
          ...(await planSummaryOf(client, goal.id)),
        });
      }
      if (ended && events.length === 0) break;
      await sleep(io.pollMs ?? 200);
    }
    const result = await outcome;
    let detail = await client.getGoal(goal.id);
    if (!isTerminal(detail.goal.status)) {
      // The pipeline ended without ending the goal (it was stopped or broke outside its Catch):
      // end it the way the state machine's EndGoal step would, so it never stays RUNNING.
      const { endGoal } = await import('../pipeline/goals');
      const error = result && result.status !== 'SUCCEEDED' ? { Error: result.error || 'Pipeline.Ended', Cause: result.cause || `the pipeline ended ${result.status}` } : { Error: 'Pipeline.Ended', Cause: 'the pipeline ended without finishing the goal' };
      await endGoal(local.runtime, { goalId: goal.id, projectId: goal.projectId, outcome: 'FAILED', error });
      progress.handle(await follower.next());
      detail = await client.getGoal(goal.id);
    }
    const summary = summarizeRun({ detail, events: follower.seen, repo: repoName(plan.repo) });
    report(output, summary, plan.repo, flags.json ?? false);
    return summary.status === 'SUCCEEDED' ? EXIT.ok : EXIT.failed;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    approver?.close?.();
  }
}

function repoName(repo: RepoInfo | RemoteRepoInfo): string {
  return 'url' in repo ? repo.url : repo.dir;
}

function localPrincipal(): string {
  try {
    return `local:${userInfo().username}`;
  } catch {
    return 'local-user';
  }
}

async function findOrCreateProject(client: CahootsApiClient, plan: RunPlan) {
  const settings = {
    ...(plan.parallel !== undefined ? { maxParallelTasks: plan.parallel } : {}),
    allowedCommands: plan.allowedCommands,
    delivery: plan.delivery,
  };
  const { repo } = plan;
  if (plan.dataDir) {
    const existing = (await client.listProjects()).find((p) => ('url' in repo ? p.repo.url === repo.url && p.repo.apiUrl === repo.apiUrl : p.repo.path === repo.dir));
    if (existing) {
      const patch: Record<string, unknown> = {};
      if (existing.repo.defaultBranch !== repo.branch) patch.defaultBranch = repo.branch;
      if ((existing.delivery ?? DEFAULT_DELIVERY_MODE) !== plan.delivery) patch.delivery = plan.delivery;
      if (settings.maxParallelTasks !== undefined && existing.maxParallelTasks !== settings.maxParallelTasks) patch.maxParallelTasks = settings.maxParallelTasks;
      if (JSON.stringify(existing.allowedCommands) !== JSON.stringify(settings.allowedCommands)) patch.allowedCommands = settings.allowedCommands;
      return Object.keys(patch).length > 0 ? client.updateProject(existing.id, patch) : existing;
    }
  }
  return client.createProject({
    name: ('url' in repo ? basename(new URL(repo.url).pathname).replace(/\.git$/, '') : basename(repo.dir)).slice(0, 100) || 'project',
    repo: 'url' in repo ? { url: repo.url, defaultBranch: repo.branch, ...(repo.apiUrl ? { apiUrl: repo.apiUrl } : {}) } : { path: repo.dir, defaultBranch: repo.branch },
    ...settings,
  });
}

async function planSummaryOf(client: CahootsApiClient, goalId: string): Promise<{ planSummary?: string }> {
  const detail = await client.getGoal(goalId);
  return detail.plan ? { planSummary: detail.plan.summary } : {};
}

async function answerGate(client: CahootsApiClient, approver: Approver, output: Output, gate: ApprovalGate): Promise<void> {
  const answer = await approver.decide(gate);
  try {
    await client.decideApproval(gate.goalId, answer);
  } catch (error) {
    // Someone else answered first, or the pipeline stopped waiting: the event log tells the rest.
    if (error instanceof ApiRequestError && error.status === 409) output.info(`(the ${gate.stage} gate was already answered: ${error.message})`);
    else throw error;
  }
}

function report(output: Output, summary: RunSummary, repo: RepoInfo | RemoteRepoInfo, json: boolean): void {
  for (const line of renderSummary(summary)) output.info(line);
  if (summary.status === 'SUCCEEDED') {
    output.info('');
    if (summary.delivery?.url) {
      output.info(`Pull request #${summary.delivery.number ?? '?'}: ${summary.delivery.url}`);
    } else if ('url' in repo) {
      output.info(`Result on branch ${summary.branch}, pushed to ${repo.url}`);
    } else {
      const base = repo.branch;
      output.info(`Result on branch ${summary.branch} in ${repo.dir}:`);
      output.info(`  git -C ${shellQuote(repo.dir)} log --oneline ${base}..${summary.branch}`);
      output.info(`  git -C ${shellQuote(repo.dir)} diff ${base}...${summary.branch}`);
    }
  }
  if (json) output.json(summary);
}

function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:=@-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

// The chaos run: goals on `cahoots dev` (a real child process with its state in one data
// directory) against a model that injects faults, while the process is killed with SIGKILL at
// seeded points of each goal and started again on the same data directory. After every goal it
// checks what must survive any crash: the goal reaches a terminal status, its event log has no
// gap or duplicate, and the delivered branch holds exactly the files the plan asked for.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliEnv, startCli, type CliProcess } from '../test/e2e/support';
import { createTempRepo, runGit, type TempRepo } from '../test/support/temp-repo';
import { FAULT_KINDS, startChaosModel, type FaultKind } from './model';
import { randomStream } from './random';
import { baseFiles, expectedTree, modelCallsOf, planGoal, type ChaosGoal } from './scenario';

export interface ChaosOptions {
  seed: string;
  /** Kill-and-restart cycles to run; goals are started until this many kills happened. */
  cycles: number;
  /** Chance that a model call is answered with a fault (default 0.2). */
  faultRate?: number;
  /**
   * A goal whose event log has not grown for this long counts as stuck (default 180 s, three
   * heartbeat timeouts). Progress, not total time, is what is judged: on a loaded machine every
   * restart takes a while.
   */
  stallMs?: number;
  /** Stops the run after the goal under way; the server is stopped either way. */
  signal?: AbortSignal;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export type CheckName = 'terminal' | 'succeeded' | 'event-log' | 'delivered-tree' | 'shutdown' | 'script';

export interface Violation {
  goal: string;
  goalId?: string;
  check: CheckName;
  detail: string;
}

export interface ChaosReport {
  seed: string;
  cycles: number;
  goals: number;
  goalsByStatus: Record<string, number>;
  kills: number;
  modelCalls: number;
  faults: Record<FaultKind, number>;
  eventsChecked: number;
  violations: Violation[];
  durationMs: number;
  /** Kept when a violation was found, for inspection; removed otherwise. */
  dataDir?: string;
}

/** The runtime's model timeout during the run: short, so timeout faults cost seconds, not minutes. */
const MODEL_TIMEOUT_SECONDS = 2;
/**
 * The agent heartbeat timeout during the run (300 s by default). An agent run lost to a kill, or
 * one whose worker hit a transient error just after a restart (a git ref lock the killed process
 * left, still too fresh to take over), is dispatched again only when its heartbeat times out; that
 * must happen well inside the stall limit, or a recovery the product makes counts as a stall.
 */
const HEARTBEAT_SECONDS = 60;
const TERMINAL_EVENTS = ['Goal.Completed', 'Goal.Failed', 'Goal.Cancelled'];
const TERMINAL_STATUSES = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

interface ApiEvent {
  seq: number;
  eventId: string;
  type: string;
  taskId?: string;
}

interface GoalDetail {
  goal: { id: string; status: string; branch: string; delivery?: { branch: string }; failureCause?: { code: string; message: string } };
}

/** `cahoots dev` on one data directory, killed and started again on demand. */
class DevServer {
  private process: CliProcess | undefined;
  private base = '';
  private ready: Promise<void> = Promise.resolve();
  private restarting: Promise<void> | undefined;
  kills = 0;

  constructor(
    private readonly dataDir: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: (line: string) => void,
  ) {}

  start(): Promise<void> {
    this.ready = this.launch();
    return this.ready;
  }

  private async launch(): Promise<void> {
    const child = startCli(['dev', '--port', '0', '--data-dir', this.dataDir], { env: this.env });
    this.process = child;
    const [, base] = await child.waitFor(/API at (http:\/\/127\.0\.0\.1:\d+)/, 120_000);
    await child.waitFor(/Stop with Ctrl-C/, 120_000);
    this.base = base!;
  }

  /** SIGKILL now, then start again; a kill asked for while one is under way is dropped. */
  killAndRestart(): Promise<void> | undefined {
    if (this.restarting || !this.process) return undefined;
    const victim = this.process;
    this.restarting = (async () => {
      await this.ready;
      victim.child.kill('SIGKILL');
      await victim.exited;
      this.kills++;
      this.log(`  ✝ killed cahoots dev (kill ${this.kills})`);
      await this.start();
    })().finally(() => (this.restarting = undefined));
    this.ready = this.restarting;
    return this.restarting;
  }

  /** The current restart, if one is under way. */
  settled(): Promise<void> {
    return this.restarting ?? this.ready;
  }

  /** An API call that waits out a restart: a request cut off by a kill is sent again. */
  async api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    for (let attempt = 1; ; attempt++) {
      await this.ready;
      try {
        const response = await fetch(`${this.base}${path}`, {
          method,
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return { status: response.status, body: (await response.json()) as T };
      } catch (error) {
        if (attempt >= 20) throw error;
        await sleep(250);
      }
    }
  }

  async stop(): Promise<number | null> {
    await this.settled();
    if (!this.process || this.process.child.exitCode !== null) return null;
    this.process.child.kill('SIGTERM');
    return this.process.exited;
  }

  output(): string {
    return this.process?.output() ?? '';
  }
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const faultRate = options.faultRate ?? 0.2;
  const stallMs = options.stallMs ?? 180_000;
  if (!Number.isInteger(options.cycles) || options.cycles < 1) throw new RangeError(`cycles must be a positive integer, got ${options.cycles}`);
  if (!(faultRate >= 0 && faultRate < 1)) throw new RangeError(`faultRate must be in [0, 1), got ${faultRate}`);

  const root = mkdtempSync(join(tmpdir(), 'cahoots-chaos-'));
  const dataDir = join(root, 'data');
  const repos: TempRepo[] = [];
  const violations: Violation[] = [];
  const goalsByStatus: Record<string, number> = {};
  let eventsChecked = 0;
  let goals = 0;

  // The kill points of the goal under way: after its n-th model call, plus a delay, so kills land
  // in model calls, tool runs, commits and merges alike.
  let current: { key: string; killAfterCalls: number[]; delays: number[]; timers: Set<NodeJS.Timeout> } | undefined;
  // The server is made once the model's address is known; the model's kill trigger reaches it here.
  const server: { dev?: DevServer } = {};
  const model = await startChaosModel({
    seed: options.seed,
    faultRate,
    modelTimeoutMs: MODEL_TIMEOUT_SECONDS * 1000,
    onCall: (goalKey) => {
      if (!current || current.key !== goalKey || !server.dev) return;
      const calls = model.calls.get(goalKey) ?? 0;
      while (current.killAfterCalls.length > 0 && current.killAfterCalls[0]! <= calls) {
        current.killAfterCalls.shift();
        const delay = current.delays.shift() ?? 0;
        const timers = current.timers;
        const timer = setTimeout(() => {
          timers.delete(timer);
          server.dev?.killAndRestart()?.catch((error: unknown) => log(`  restart failed: ${String(error)}`));
        }, delay);
        timers.add(timer);
      }
    },
  });

  const env = cliEnv({
    CAHOOTS_MODEL: `openai:chaos-coder@${model.baseUrl}`,
    MODEL_TIMEOUT_SECONDS: String(MODEL_TIMEOUT_SECONDS),
    HEARTBEAT_SECONDS: String(HEARTBEAT_SECONDS),
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  const dev = new DevServer(dataDir, env, log);
  server.dev = dev;
  try {
    await dev.start();
    log(`seed ${options.seed} · ${options.cycles} kill-and-restart cycle(s) · fault rate ${faultRate} · data in ${dataDir}`);
    for (let index = 1; dev.kills < options.cycles && !options.signal?.aborted; index++) {
      const plan = planGoal(index, randomStream(options.seed, `goal:${index}`));
      const killing = randomStream(options.seed, `kills:${index}`);
      const wanted = Math.min(options.cycles - dev.kills, killing.int(1, 3));
      const span = modelCallsOf(plan);
      const killAfterCalls = [...new Set(Array.from({ length: wanted }, () => killing.int(1, span)))].sort((a, b) => a - b);
      current = { key: plan.key, killAfterCalls, delays: killAfterCalls.map(() => killing.int(0, 1_500)), timers: new Set() };
      model.add(plan);
      goals++;
      const killsBefore = dev.kills;
      const outcome = await runGoal(dev, plan, repos, stallMs, options.signal);
      for (const timer of current.timers) clearTimeout(timer);
      current = undefined;
      await dev.settled();
      goalsByStatus[outcome.status] = (goalsByStatus[outcome.status] ?? 0) + 1;
      eventsChecked += outcome.eventsChecked;
      violations.push(...outcome.violations);
      log(`${plan.key} ${outcome.goalId ?? '-'} ${outcome.status} · ${plan.tasks.length} task(s) · ${dev.kills - killsBefore} kill(s) · ${outcome.violations.length} violation(s)`);
      for (const v of outcome.violations) log(`  ✖ ${v.check}: ${v.detail}`);
      if (dev.kills === killsBefore && index > options.cycles * 3) {
        violations.push({ goal: plan.key, check: 'script', detail: 'goals keep ending before any kill point; the kill plan does not fit the goals' });
        break;
      }
    }
    const code = await dev.stop();
    if (code !== 0) violations.push({ goal: '-', check: 'shutdown', detail: `cahoots dev exited ${code} on SIGTERM:\n${dev.output().slice(-2000)}` });
  } finally {
    await dev.stop().catch(() => null);
    await model.close();
    for (const repo of repos) repo.cleanup();
  }
  for (const problem of model.unscripted) violations.push({ goal: '-', check: 'script', detail: `a model request the script could not answer: ${problem}` });

  const keep = violations.length > 0;
  if (!keep) rmSync(root, { recursive: true, force: true });
  return {
    seed: options.seed,
    cycles: options.cycles,
    goals,
    goalsByStatus,
    kills: dev.kills,
    modelCalls: [...model.calls.values()].reduce((a, b) => a + b, 0),
    faults: { ...model.faults },
    eventsChecked,
    violations,
    durationMs: Date.now() - started,
    ...(keep ? { dataDir } : {}),
  };
}

interface GoalOutcome {
  goalId?: string;
  status: string;
  eventsChecked: number;
  violations: Violation[];
}

async function runGoal(dev: DevServer, plan: ChaosGoal, repos: TempRepo[], stallMs: number, signal: AbortSignal | undefined): Promise<GoalOutcome> {
  const repo = createTempRepo(baseFiles());
  repos.push(repo);
  const project = await dev.api<{ id: string }>('POST', '/projects', {
    name: `chaos-${plan.key}`,
    repo: { path: repo.dir },
    autonomyLevel: 4,
    allowedCommands: ['node --test'],
  });
  if (project.status !== 201) return { status: 'NOT STARTED', eventsChecked: 0, violations: [{ goal: plan.key, check: 'script', detail: `POST /projects answered ${project.status}: ${JSON.stringify(project.body)}` }] };
  const created = await dev.api<{ id: string }>('POST', `/projects/${project.body.id}/goals`, { title: plan.title });
  if (created.status !== 202) return { status: 'NOT STARTED', eventsChecked: 0, violations: [{ goal: plan.key, check: 'script', detail: `POST /goals answered ${created.status}: ${JSON.stringify(created.body)}` }] };
  const goalId = created.body.id;
  const violation = (check: CheckName, detail: string): Violation => ({ goal: plan.key, goalId, check, detail });

  let detail: GoalDetail;
  let lastSeq = 0;
  let progressAt = Date.now();
  for (;;) {
    detail = (await dev.api<GoalDetail>('GET', `/goals/${goalId}`)).body;
    if (TERMINAL_STATUSES.includes(detail.goal.status)) break;
    const page = (await dev.api<{ lastSeq: number }>('GET', `/goals/${goalId}/events?after=${lastSeq}&limit=100`)).body;
    if (page.lastSeq > lastSeq) [lastSeq, progressAt] = [page.lastSeq, Date.now()];
    if (Date.now() - progressAt > stallMs) {
      // The server's last lines say why (its log level is ERROR, so they are the errors it met).
      const said = dev.output().trim().slice(-3_000);
      const detailText = `still ${detail.goal.status}, and no new event for ${stallMs / 1000} s (last seq ${lastSeq})${said ? `; cahoots dev said, last:\n${said}` : ''}`;
      return { goalId, status: detail.goal.status, eventsChecked: 0, violations: [violation('terminal', detailText)] };
    }
    if (signal?.aborted) return { goalId, status: `${detail.goal.status} (run stopped)`, eventsChecked: 0, violations: [] };
    await sleep(500);
  }
  // A kill that was already on its way lands now; the checks read the state after the restart.
  await dev.settled();
  detail = (await dev.api<GoalDetail>('GET', `/goals/${goalId}`)).body;
  const status = detail.goal.status;
  const violations: Violation[] = [];
  if (status !== 'SUCCEEDED') {
    const cause = detail.goal.failureCause ? `${detail.goal.failureCause.code}: ${detail.goal.failureCause.message}` : 'no cause recorded';
    violations.push(violation('succeeded', `ended ${status} (${cause}); every fault was retryable and every kill recoverable`));
  }

  const events = await allEvents(dev, goalId);
  violations.push(...eventLogProblems(events, status).map((p) => violation('event-log', p)));
  if (status === 'SUCCEEDED') {
    const branch = detail.goal.delivery?.branch ?? detail.goal.branch;
    violations.push(...treeProblems(repo.dir, branch, expectedTree(plan)).map((p) => violation('delivered-tree', p)));
  }
  return { goalId, status, eventsChecked: events.length, violations };
}

async function allEvents(dev: DevServer, goalId: string): Promise<ApiEvent[]> {
  const all: ApiEvent[] = [];
  for (let after = 0; ; ) {
    const page = (await dev.api<{ items: ApiEvent[]; lastSeq: number; hasMore: boolean }>('GET', `/goals/${goalId}/events?after=${after}`)).body;
    all.push(...page.items);
    if (!page.hasMore || page.items.length === 0) return all;
    after = page.lastSeq;
  }
}

/** A goal's log is numbered 1, 2, 3 … with no gap, holds each event once, and ends the goal once. */
export function eventLogProblems(events: readonly ApiEvent[], status: string): string[] {
  const problems: string[] = [];
  events.forEach((event, i) => {
    if (event.seq !== i + 1) problems.push(`event ${i + 1} has seq ${event.seq} (${event.type}): a gap or a duplicate`);
  });
  const ids = new Map<string, number>();
  for (const event of events) ids.set(event.eventId, (ids.get(event.eventId) ?? 0) + 1);
  for (const [id, n] of ids) if (n > 1) problems.push(`eventId ${id} appears ${n} times`);
  const once = (type: string, taskId?: string) => events.filter((e) => e.type === type && (taskId === undefined || e.taskId === taskId)).length;
  const endings = events.filter((e) => TERMINAL_EVENTS.includes(e.type)).map((e) => e.type);
  const wanted = { SUCCEEDED: 'Goal.Completed', FAILED: 'Goal.Failed', CANCELLED: 'Goal.Cancelled' }[status];
  if (endings.length !== 1 || endings[0] !== wanted) problems.push(`the goal is ${status} but its log ends it with [${endings.join(', ')}]`);
  if (once('Goal.Created') !== 1) problems.push(`Goal.Created appears ${once('Goal.Created')} times`);
  for (const taskId of new Set(events.map((e) => e.taskId).filter((id): id is string => id !== undefined))) {
    for (const type of ['Task.Created', 'Task.Succeeded']) {
      if (once(type, taskId) > 1) problems.push(`${type} of ${taskId} appears ${once(type, taskId)} times`);
    }
  }
  return problems;
}

/** Differences between the branch's tree and the expected files, read with the git binary. */
export function treeProblems(repoDir: string, branch: string, expected: Record<string, string>): string[] {
  let listed: string;
  try {
    listed = runGit(repoDir, ['ls-tree', '-r', '-z', '--name-only', branch]);
  } catch (error) {
    return [`branch ${branch} cannot be read: ${(error as Error).message.split('\n')[0]}`];
  }
  const actual = new Set(listed.split('\0').filter(Boolean));
  const problems: string[] = [];
  for (const path of actual) if (!(path in expected)) problems.push(`${branch} holds ${path}, which no task wrote`);
  for (const [path, content] of Object.entries(expected)) {
    if (!actual.has(path)) {
      problems.push(`${branch} lacks ${path}`);
      continue;
    }
    // runGit trims its output; compare trimmed so a final newline does not count as a difference.
    const found = runGit(repoDir, ['show', `${branch}:${path}`]);
    if (found !== content.trim()) problems.push(`${branch}:${path} differs from the plan:\n--- expected\n${content.trim()}\n--- found\n${found}`);
  }
  return problems;
}

/** The run's figures, as `npm run chaos` prints them. */
export function formatReport(report: ChaosReport): string {
  const faults = FAULT_KINDS.map((kind) => `${kind} ${report.faults[kind]}`).join(', ');
  const total = FAULT_KINDS.reduce((n, kind) => n + report.faults[kind], 0);
  const statuses = Object.entries(report.goalsByStatus).map(([status, n]) => `${n} ${status}`).join(', ');
  const lines = [
    '',
    `chaos · seed ${report.seed}`,
    `  goals                 ${report.goals} (${statuses || 'none'})`,
    `  kill-and-restart      ${report.kills} of ${report.cycles} cycle(s)`,
    `  model calls           ${report.modelCalls}`,
    `  faults injected       ${total} (${faults})`,
    `  events checked        ${report.eventsChecked}`,
    `  integrity violations  ${report.violations.length}`,
    `  took                  ${(report.durationMs / 1000).toFixed(1)} s`,
  ];
  for (const v of report.violations) lines.push(`  ✖ ${v.goal}${v.goalId ? ` (${v.goalId})` : ''} ${v.check}: ${v.detail}`);
  if (report.dataDir) lines.push(`  data directory kept for inspection: ${report.dataDir}`);
  if (report.violations.length > 0) lines.push(`  replay: npm run chaos -- --seed ${report.seed} --cycles ${report.cycles}`);
  return lines.join('\n');
}


const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// The commands that look at and steer goals through the API — status, events, approve, reject,
// cancel, cost — against a running `cahoots dev`, the local data directory, or a deployed API.
import { sleep } from '../domain/backoff';
import type { PublicGoal } from '../api/schemas';
import type { EventEnvelope } from '../domain/events';
import type { Project } from '../domain/project';
import { nextFireTime } from '../domain/schedule-expression';
import { isTerminal } from '../domain/status';
import { connect, type Connection } from './connect';
import { DEFAULT_DATA_DIR } from './data-dir';
import { CommandFailedError, EXIT, UsageError, type ExitCode } from './errors';
import { EventFollower } from './follow';
import { count, shorten, table, usd } from './format';
import { parseBudget, parseDay, parseGoalId, parseProjectId, parseSeq } from './options';
import { Output } from './output';
import { GoalProgress } from './progress';

interface RemoteFlags {
  dataDir?: string;
  endpoint?: string;
  json?: boolean;
}

async function withConnection<T>(flags: RemoteFlags, command: string, work: (connection: Connection) => Promise<T>): Promise<T> {
  const connection = await connect({ ...(flags.endpoint ? { endpoint: flags.endpoint } : {}), ...(flags.dataDir ? { dataDir: flags.dataDir } : {}), command });
  try {
    return await work(connection);
  } finally {
    await connection.close();
  }
}

async function projectsFor(connection: Connection, projectId: string | undefined): Promise<Project[]> {
  if (projectId) return [await connection.client.getProject(projectId)];
  if (connection.kind === 'endpoint') throw new UsageError('--project is required with --endpoint: the deployed API lists goals per project', '--project');
  return connection.client.listProjects();
}

export async function statusCommand(flags: RemoteFlags & { project?: string }, output = new Output()): Promise<ExitCode> {
  const projectId = parseProjectId(flags.project);
  return withConnection(flags, 'cahoots status', async (connection) => {
    const projects = await projectsFor(connection, projectId);
    const report = await Promise.all(projects.map(async (project) => ({ project, goals: await connection.client.listAllGoals(project.id) })));
    if (flags.json) {
      output.json({ source: connection.where, projects: report.map(({ project, goals }) => ({ ...project, goals })) });
      return EXIT.ok;
    }
    if (report.length === 0) {
      output.info(`No projects yet in ${connection.where}. Start one with cahoots run --data-dir, or POST /projects to cahoots dev.`);
      return EXIT.ok;
    }
    const target = connection.kind === 'endpoint' && flags.endpoint ? ` --endpoint ${flags.endpoint}` : flags.dataDir && flags.dataDir !== DEFAULT_DATA_DIR ? ` --data-dir ${flags.dataDir}` : '';
    let approvals = 0;
    let failures = 0;
    for (const { project, goals } of report) {
      output.info(`${project.id} "${project.name}" · ${project.repo.path ?? project.repo.url} (${project.repo.defaultBranch}) · autonomy ${project.autonomyLevel}`);
      output.info(`  detection ${describeSchedule(project)}`);
      if (goals.length === 0) output.info('  no goals');
      else for (const line of table(['goal', 'status', 'cost', 'created', 'title'], goals.map(goalRow))) output.info(line);
      for (const goal of goals.filter(waitsForApproval)) {
        approvals += 1;
        output.info(`  → ${goal.id} waits for ${goal.approval.stage ?? 'an'} approval: cahoots approve ${goal.id}${target}  (or reject)`);
      }
      // Goals come newest first; the latest failures are the ones someone may still act on.
      const failed = goals.filter((g) => g.status === 'FAILED');
      failures += failed.length;
      for (const goal of failed.slice(0, SHOWN_FAILURES)) {
        output.info(`  ✖ ${goal.id} failed${goal.failureCause ? ` (${goal.failureCause.code}): ${shorten(goal.failureCause.message, 160)}` : ''}  · cahoots events ${goal.id}${target}`);
      }
      if (failed.length > SHOWN_FAILURES) output.info(`  ✖ … and ${failed.length - SHOWN_FAILURES} earlier failed goal(s)`);
      for (const goal of goals.filter((g) => g.delivery?.url)) output.info(`  ⇢ ${goal.id} pull request #${goal.delivery!.number ?? '?'}: ${goal.delivery!.url}`);
      output.info('');
    }
    output.info(approvals + failures === 0 ? 'Nothing waits for you.' : `Waiting for you: ${approvals} approval(s), ${failures} failed goal(s).`);
    return EXIT.ok;
  });
}

/** Failed goals listed per project; older ones are counted. */
const SHOWN_FAILURES = 5;

/** `cron(0 3 * * ? *) Europe/Berlin, next 2026-12-03 02:00 UTC`, or `off`. */
function describeSchedule(project: Project, now = new Date()): string {
  const { schedule } = project;
  if (!schedule.enabled) return `off (${schedule.cron} ${schedule.timezone} when enabled)`;
  let next: Date | undefined;
  try {
    next = nextFireTime(schedule.cron, { after: now, timeZone: schedule.timezone });
  } catch {
    return `${schedule.cron} ${schedule.timezone} (not a valid expression)`;
  }
  // A rate counts from when the schedule was saved, which the project does not record.
  const when = schedule.cron.startsWith('rate(') ? '' : next ? `, next ${next.toISOString().slice(0, 16).replace('T', ' ')} UTC` : ', never again';
  return `${schedule.cron} ${schedule.timezone}${when}`;
}

const waitsForApproval = (goal: PublicGoal) => goal.status === 'AWAITING_APPROVAL' && goal.approval.state === 'pending';

function goalRow(goal: PublicGoal): string[] {
  return [goal.id, goal.status, usd(goal.costUsd), goal.createdAt.slice(0, 16).replace('T', ' '), shorten(goal.title, 60)];
}

export async function eventsCommand(goalIdText: string, flags: RemoteFlags & { after?: string; follow?: boolean }, output = new Output()): Promise<ExitCode> {
  const goalId = parseGoalId(goalIdText);
  const after = parseSeq('--after', flags.after) ?? 0;
  return withConnection(flags, 'cahoots events', async (connection) => {
    const follower = new EventFollower(connection.client, goalId, after);
    // One describer for the whole stream keeps task names and the running cost across events.
    let described: string[] = [];
    const progress = new GoalProgress((line) => described.push(line), { verbose: true });
    const print = (events: readonly EventEnvelope[]) => {
      for (const event of events) {
        if (flags.json) {
          output.info(JSON.stringify(event));
          continue;
        }
        described = [];
        progress.handle([event]);
        const [first, ...more] = described.length > 0 ? described : [compact(event.data)];
        output.info(`${String(event.seq).padStart(4)}  ${event.at.slice(11, 19)}  ${event.type.padEnd(21)} ${first ?? ''}`.trimEnd());
        for (const line of more) output.info(`${' '.repeat(38)}${line}`);
      }
    };
    print(await follower.next());
    if (!flags.follow) return EXIT.ok;
    let goal = (await connection.client.getGoal(goalId)).goal;
    if (connection.kind === 'data-dir' && !isTerminal(goal.status)) {
      output.error(`cahoots: nothing runs goal ${goalId} (${goal.status}) now: no cahoots dev serves ${connection.where}. Start one there and the goal resumes.`);
      return EXIT.failed;
    }
    for (;;) {
      const events = await follower.next();
      print(events);
      if (events.length === 0) {
        goal = (await connection.client.getGoal(goalId)).goal;
        if (isTerminal(goal.status)) {
          print(await follower.next());
          return goal.status === 'SUCCEEDED' ? EXIT.ok : EXIT.failed;
        }
        await sleep(500);
      }
    }
  });
}

function compact(data: Record<string, unknown>): string {
  const text = JSON.stringify(data);
  return text === '{}' ? '' : shorten(text, 160);
}

export async function decideCommand(
  goalIdText: string,
  decision: 'approve' | 'reject',
  flags: RemoteFlags & { comment?: string; budgetUsd?: string },
  output = new Output(),
): Promise<ExitCode> {
  const goalId = parseGoalId(goalIdText);
  const budgetUsd = parseBudget(flags.budgetUsd);
  return withConnection(flags, `cahoots ${decision}`, async (connection) => {
    if (connection.kind === 'data-dir') {
      throw new CommandFailedError(
        `no cahoots dev serves ${connection.where}, so no pipeline waits for this answer; start \`cahoots dev --data-dir ${connection.where}\` (it resumes the goal and asks again), then run this again`,
      );
    }
    const goal = await connection.client.decideApproval(goalId, {
      decision,
      ...(flags.comment ? { comment: flags.comment } : {}),
      ...(budgetUsd !== undefined ? { budgetUsd } : {}),
    });
    if (flags.json) output.json(goal);
    else output.info(`${decision === 'approve' ? 'Approved' : 'Rejected'} the ${goal.approval.stage ?? ''} gate of ${goal.id}; the goal is ${goal.status}`);
    return EXIT.ok;
  });
}

export async function cancelCommand(goalIdText: string, flags: RemoteFlags & { reason?: string }, output = new Output()): Promise<ExitCode> {
  const goalId = parseGoalId(goalIdText);
  return withConnection(flags, 'cahoots cancel', async (connection) => {
    const goal = await connection.client.cancelGoal(goalId, flags.reason);
    if (flags.json) output.json(goal);
    else output.info(`Cancelled ${goal.id}; it is ${goal.status}`);
    return EXIT.ok;
  });
}

export async function costCommand(flags: RemoteFlags & { project?: string; since?: string }, output = new Output()): Promise<ExitCode> {
  const projectId = parseProjectId(flags.project);
  const since = parseDay('--since', flags.since);
  return withConnection(flags, 'cahoots cost', async (connection) => {
    const projects = await projectsFor(connection, projectId);
    const reports = await Promise.all(projects.map(async (project) => ({ project, report: await connection.client.getCosts(project.id, since ? { from: since } : {}) })));
    if (flags.json) {
      output.json({ source: connection.where, reports: reports.map(({ report }) => report) });
      return EXIT.ok;
    }
    if (reports.length === 0) output.info(`No projects yet in ${connection.where}.`);
    for (const { project, report } of reports) {
      const t = report.total;
      output.info(`${project.id} "${project.name}" · ${report.from} to ${report.to}`);
      output.info(`  total ${usd(t.usd)} · ${count(t.calls)} call(s) · ${count(t.inputTokens)} input · ${count(t.outputTokens)} output · ${count(t.cacheReadTokens)} cache read · ${count(t.cacheWriteTokens)} cache write`);
      if (report.byModel.length > 0) {
        for (const line of table(['model', 'usd', 'calls', 'input', 'output'], report.byModel.map((m) => [shorten(m.model, 60), usd(m.usd), count(m.calls), count(m.inputTokens), count(m.outputTokens)]), '    ')) output.info(line);
      }
      const active = report.byDay.filter((d) => d.calls > 0);
      if (active.length > 0) {
        output.info('  by day');
        for (const line of table(['day', 'usd', 'calls'], active.map((d) => [d.day, usd(d.usd), count(d.calls)]), '    ')) output.info(line);
      }
      output.info('');
    }
    return EXIT.ok;
  });
}

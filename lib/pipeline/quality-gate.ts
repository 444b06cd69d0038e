// The quality gate: once the planned work has succeeded, the reviewer and QA look at the goal
// branch in parallel; changes they ask for become a rework task for a developer, at most
// `maxReworkRounds` times, after which the goal fails with their feedback as the cause. The rework
// task carries their findings as structured data (`Task.feedback`), which the developer's prompt
// shows as untrusted blocks; nothing they wrote is pasted into the task's spec.
import type { Goal } from '../domain/goal';
import { staffedRoles, type Project } from '../domain/project';
import { newGoalTask, type ReworkFeedback } from '../domain/task';
import type { AgentRole } from '../domain/settings';
import { metrics } from '../powertools';
import type { Runtime } from '../runtime';
import { recordGoalEvent } from './events';
import { ensureGoalRunning } from './goal-state';
import type { GoalStepInput, TaskRef } from './inputs';
import { deliveryApprovalRequired, effectiveAutonomy } from './policy';
import { isWorkTask, taskRef } from './dispatch';

const GATE_ROLES = ['reviewer', 'qa'] as const satisfies readonly AgentRole[];
const gateKey = (role: string, round: number) => `gate-${role}-r${round}`;
const reworkKey = (round: number) => `rework-r${round}`;

export async function openQualityGate(runtime: Runtime, input: GoalStepInput): Promise<{ next: 'gate'; tasks: TaskRef[]; cause: string }> {
  const goal = await ensureGoalRunning(runtime, input.goalId);
  const project = await runtime.store.projects.get(goal.projectId);
  const round = goal.reworkRounds;
  const staffed = new Set(staffedRoles(project.team));
  const work = (await runtime.store.tasks.listAll(goal.id)).filter(isWorkTask);
  const workSummary = work
    .map((t) => `- ${t.title} (${t.role}): ${t.outputs?.summary ?? 'no summary'}${t.outputs?.filesChanged?.length ? ` [files: ${t.outputs.filesChanged.join(', ')}]` : ''}`)
    .join('\n');
  const gateTasks = GATE_ROLES.filter((role) => staffed.has(role)).map((role) =>
    newGoalTask(goal, {
      planKey: gateKey(role, round),
      role,
      kind: role === 'reviewer' ? 'review' : 'qa',
      title: `${role === 'reviewer' ? 'Review' : 'QA'} round ${round + 1}: ${goal.title}`,
      spec: gateSpec(role, goal, workSummary),
      acceptanceCriteria:
        role === 'reviewer'
          ? ['A verdict with concrete comments tied to files and lines']
          : ["The project's tests were run on the goal branch and their results reported honestly"],
    }),
  );
  const stored = await runtime.store.tasks.createMany(gateTasks);
  for (const t of stored) {
    await recordGoalEvent(runtime, { type: 'Task.Created', goal, taskId: t.id, data: { role: t.role, kind: t.kind, title: t.title }, idempotencyKey: `created:${t.id}` });
  }
  // A repeated step (Lambda retry) must not dispatch a gate task that already ran.
  return { next: 'gate', tasks: stored.filter((t) => t.status === 'PENDING').map((t) => taskRef(runtime, t)), cause: '' };
}

function gateSpec(role: 'reviewer' | 'qa', goal: Goal, workSummary: string): string {
  const intro =
    role === 'reviewer'
      ? `Review the changes on the goal branch ${goal.branch} against the goal below. Approve only if they meet it; otherwise request changes with concrete comments.`
      : `Run the project's tests on the goal branch ${goal.branch} and report the results. Check the acceptance criteria of the work below.`;
  return `${intro}\n\nGoal: ${goal.title}\n${goal.description}\n\nWork done:\n${workSummary}`;
}

export type GateDecision = { next: 'deliver' | 'approve-delivery' | 'rework' | 'failed'; tasks: []; cause: string };

export async function evaluateQualityGate(runtime: Runtime, input: GoalStepInput): Promise<GateDecision> {
  const goal = await ensureGoalRunning(runtime, input.goalId);
  const project = await runtime.store.projects.get(goal.projectId);
  const round = goal.reworkRounds;
  const tasks = await runtime.store.tasks.listAll(goal.id);
  const gate = tasks.filter((t) => t.planKey === gateKey('reviewer', round) || t.planKey === gateKey('qa', round));

  const failed = gate.filter((t) => t.status !== 'SUCCEEDED');
  if (failed.length > 0) {
    return {
      next: 'failed',
      tasks: [],
      cause: failed.map((t) => `quality gate task "${t.title}" ended ${t.status}: ${t.failureCause?.message ?? 'no cause recorded'}`).join('; '),
    };
  }

  // `findings` is the gate's verdict in words, for the goal's failure cause; `feedback` is the same
  // as data, for the rework task.
  const findings: string[] = [];
  const feedback: ReworkFeedback[] = [];
  const criteria: string[] = [];
  for (const t of gate) {
    const review = t.outputs?.review;
    if (review) {
      await recordGoalEvent(runtime, {
        type: 'Review.Verdict',
        goal,
        taskId: t.id,
        data: { round: round + 1, verdict: review.verdict, comments: review.comments.length },
        idempotencyKey: `verdict:${t.id}`,
      });
      if (review.verdict !== 'approved') {
        feedback.push({ from: 'reviewer', taskId: t.id, summary: t.outputs?.summary ?? '', verdict: review.verdict, comments: review.comments });
        findings.push(`Reviewer (${review.verdict}): ${t.outputs?.summary ?? ''}`);
        review.comments.forEach((c, i) => {
          const where = c.file ? `${c.file}${c.line ? `:${c.line}` : ''}` : '';
          findings.push(`- [${c.severity}] ${where ? `${where}: ` : ''}${c.body}`);
          // The criterion points at the comment rather than quoting it: the comment's text reaches
          // the developer only inside the feedback's untrusted block.
          if (c.severity === 'major' || c.severity === 'blocker') criteria.push(`Review comment ${i + 1} (${c.severity}${where ? `, ${where}` : ''}) is addressed`);
        });
      }
    }
    const tests = t.outputs?.testResults;
    if (t.kind === 'qa' && tests) {
      await recordGoalEvent(runtime, {
        type: 'Qa.Result',
        goal,
        taskId: t.id,
        data: { round: round + 1, passed: tests.passed, failed: tests.failed, skipped: tests.skipped },
        idempotencyKey: `qa:${t.id}`,
      });
      if (tests.failed > 0) {
        const failures = t.outputs?.failures;
        feedback.push({ from: 'qa', taskId: t.id, summary: tests.summary ?? t.outputs?.summary ?? '', testResults: tests, ...(failures?.length ? { failures } : {}) });
        findings.push(`QA: ${tests.failed} test(s) failed${tests.command ? ` running \`${tests.command}\`` : ''}. ${tests.summary ?? t.outputs?.summary ?? ''}`);
        criteria.push(`All tests pass${tests.command ? ` (\`${tests.command}\`)` : ''}`);
      }
    }
  }

  if (findings.length === 0) {
    metrics.addMetric('QualityGatePassed', 'Count', 1);
    const deliveryApproved = goal.approval.state === 'approved' && goal.approval.stage === 'delivery';
    const ask = deliveryApprovalRequired(effectiveAutonomy(goal, project)) && !deliveryApproved;
    return { next: ask ? 'approve-delivery' : 'deliver', tasks: [], cause: '' };
  }
  metrics.addMetric('QualityGateRejected', 'Count', 1);
  if (round >= project.maxReworkRounds) {
    return {
      next: 'failed',
      tasks: [],
      cause: `the quality gate still asked for changes after ${round} rework round(s): ${findings.join(' ')}`.slice(0, 4_000),
    };
  }
  await createReworkTask(runtime, goal, project, round, { feedback, points: findings.length, criteria });
  return { next: 'rework', tasks: [], cause: '' };
}

interface ReworkRequest {
  feedback: ReworkFeedback[];
  /** Lines of findings (the verdicts, comments and test failures), for the event. */
  points: number;
  /** Checkable statements from major and blocker comments and failing tests. */
  criteria: string[];
}

async function createReworkTask(runtime: Runtime, goal: Goal, project: Project, round: number, { feedback, points, criteria }: ReworkRequest): Promise<void> {
  const staffed = staffedRoles(project.team);
  const role: AgentRole = staffed.includes('developer') ? 'developer' : staffed.includes('ux') ? 'ux' : 'developer';
  const [rework] = await runtime.store.tasks.createMany([
    newGoalTask(goal, {
      planKey: reworkKey(round),
      role,
      kind: 'rework',
      title: `Rework round ${round + 1}: ${goal.title}`,
      spec: `The quality gate asked for changes to the work on ${goal.branch}. Address every point of the feedback that comes with this task, run the tests, and finish.`,
      acceptanceCriteria: criteria.length > 0 ? criteria : ['Every point of the feedback is addressed'],
      feedback,
    }),
  ]);
  // Counting the round and creating its task are separate single-item writes; the rework key is
  // derived from the round, so a retry after a crash between them re-creates nothing.
  await runtime.store.goals.mutate(goal.id, (g) => (g.reworkRounds === round ? { reworkRounds: round + 1 } : {}));
  metrics.addMetric('ReworkRounds', 'Count', 1);
  await recordGoalEvent(runtime, {
    type: 'Rework.Requested',
    goal,
    taskId: rework!.id,
    data: { round: round + 1, role, points },
    idempotencyKey: `rework:${round}`,
  });
}

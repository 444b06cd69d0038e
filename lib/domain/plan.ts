// The plan a planner agent produces for a goal: tasks, their dependency edges and a risk, and the
// validation that makes sure the graph is something the pipeline can actually execute.
import * as z from 'zod';
import { LIMITS, TitleSchema } from './common';
import { CahootsError } from './errors';
import { AGENT_ROLES, AgentRoleSchema, type AgentRole } from './settings';

export const TASK_KINDS = ['plan', 'feature', 'fix', 'test', 'refactor', 'docs', 'review', 'qa', 'rework', 'conflict'] as const;
export const TaskKindSchema = z.enum(TASK_KINDS);
export type TaskKind = z.infer<typeof TaskKindSchema>;

export const RISKS = ['low', 'medium', 'high'] as const;
export const RiskSchema = z.enum(RISKS);
export type Risk = z.infer<typeof RiskSchema>;

/** The planner's own short name for a task (`t1`, `api-route`); store ids are derived from it. */
export const PlanTaskKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { message: 'task id must be 1-64 letters, digits, . _ -' });

export const MAX_PLAN_TASKS = 50;

function planTaskShape<R extends z.ZodType<string>>(role: R) {
  return z.object({
    id: PlanTaskKeySchema,
    role,
    kind: TaskKindSchema.default('feature'),
    title: TitleSchema,
    spec: z.string().min(1).max(LIMITS.spec),
    acceptanceCriteria: z.array(z.string().min(1).max(LIMITS.criterion)).max(30).default([]),
    /** Edges of the DAG: ids of the tasks that must succeed before this one may start. */
    dependsOn: z.array(PlanTaskKeySchema).max(MAX_PLAN_TASKS).default([]),
  });
}

function planShape<R extends z.ZodType<string>>(role: R) {
  return z.object({
    summary: z.string().min(1).max(LIMITS.summary),
    risk: RiskSchema,
    tasks: z.array(planTaskShape(role)).max(MAX_PLAN_TASKS),
  });
}

export const PlanTaskSchema = planTaskShape(AgentRoleSchema);
export type PlanTask = z.infer<typeof PlanTaskSchema>;

/**
 * The typed plan. Its schema alone does not prove the graph is executable; use `parsePlan` /
 * `validatePlan`, which also check ids, dependencies, cycles and staffed roles.
 */
export const PlanSchema = planShape(AgentRoleSchema);
export type Plan = z.infer<typeof PlanSchema>;

/** The plan's shape with `role` limited to `roles`, e.g. the roles a project staffs. */
export function planSchemaFor(roles: readonly AgentRole[]) {
  return planShape(z.enum([...roles] as [AgentRole, ...AgentRole[]]));
}

// Roles are checked after structure so an unknown role is reported as a plan issue naming the
// task, the same way as the graph problems, rather than as a bare enum error.
const LoosePlanSchema = planShape(z.string().min(1).max(40));

export type PlanIssue =
  | { kind: 'schema'; path: string; message: string }
  | { kind: 'no-tasks'; message: string }
  | { kind: 'duplicate-id'; taskId: string; message: string }
  | { kind: 'unknown-dependency'; taskId: string; dependsOn: string; message: string }
  | { kind: 'self-dependency'; taskId: string; message: string }
  | { kind: 'cycle'; cycle: string[]; message: string }
  | { kind: 'unknown-role'; taskId: string; role: string; message: string };

export class PlanValidationError extends CahootsError {
  readonly code = 'PlanInvalid';
  readonly stepFunctionsError = 'Plan.Invalid';
  readonly permanent = true;

  constructor(readonly issues: PlanIssue[]) {
    super(`plan is invalid: ${issues.map((i) => i.message).join('; ')}`);
  }
}

export interface PlanValidationOptions {
  /** Roles the project's team staffs; defaults to every known role. */
  roles?: readonly AgentRole[];
}

export type PlanValidationResult = { ok: true; plan: Plan } | { ok: false; issues: PlanIssue[] };

/** Validates untrusted plan input (model output) and returns every issue found, not just the first. */
export function validatePlan(input: unknown, options: PlanValidationOptions = {}): PlanValidationResult {
  const parsed = LoosePlanSchema.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      issues: parsed.error.issues.map((i) => ({
        kind: 'schema' as const,
        path: i.path.join('.'),
        message: `${i.path.join('.') || '(plan)'}: ${i.message}`,
      })),
    };
  }
  const plan = parsed.data;
  const issues: PlanIssue[] = [];
  if (plan.tasks.length === 0) issues.push({ kind: 'no-tasks', message: 'plan has no tasks' });

  const staffed = new Set<string>(options.roles ?? AGENT_ROLES);
  const ids = new Set<string>();
  for (const task of plan.tasks) {
    if (ids.has(task.id)) issues.push({ kind: 'duplicate-id', taskId: task.id, message: `task id ${task.id} is used more than once` });
    ids.add(task.id);
    if (!staffed.has(task.role)) {
      const why = (AGENT_ROLES as readonly string[]).includes(task.role) ? 'is not staffed on this project' : 'is not a known role';
      issues.push({ kind: 'unknown-role', taskId: task.id, role: task.role, message: `task ${task.id}: role ${task.role} ${why}` });
    }
  }
  for (const task of plan.tasks) {
    for (const dep of task.dependsOn) {
      if (dep === task.id) issues.push({ kind: 'self-dependency', taskId: task.id, message: `task ${task.id} depends on itself` });
      else if (!ids.has(dep))
        issues.push({ kind: 'unknown-dependency', taskId: task.id, dependsOn: dep, message: `task ${task.id} depends on unknown task ${dep}` });
    }
  }
  for (const cycle of findCycles(plan.tasks)) {
    issues.push({ kind: 'cycle', cycle, message: `dependency cycle: ${cycle.join(' → ')}` });
  }

  if (issues.length > 0) return { ok: false, issues };
  // Roles were all checked against AGENT_ROLES above, so the strict schema cannot fail here;
  // parsing again gives the typed value without a cast. Duplicate edges are dropped.
  const typed = PlanSchema.parse(plan);
  return { ok: true, plan: { ...typed, tasks: typed.tasks.map((t) => ({ ...t, dependsOn: [...new Set(t.dependsOn)] })) } };
}

/** Like validatePlan, but throws PlanValidationError listing every issue. */
export function parsePlan(input: unknown, options: PlanValidationOptions = {}): Plan {
  const result = validatePlan(input, options);
  if (!result.ok) throw new PlanValidationError(result.issues);
  return result.plan;
}

/** Dependency edges as `[task, dependsOn]` pairs, for rendering and for the API. */
export function planEdges(plan: Plan): Array<[string, string]> {
  return plan.tasks.flatMap((t) => t.dependsOn.map((d): [string, string] => [t.id, d]));
}

/**
 * Every distinct elementary cycle reachable by depth-first search, each written as a closed walk
 * along `dependsOn` edges starting at its smallest id (`t1 → t3 → t1`). Self-edges and edges to
 * unknown tasks are reported elsewhere and ignored here.
 */
export function findCycles(tasks: ReadonlyArray<{ id: string; dependsOn: readonly string[] }>): string[][] {
  const edges = new Map<string, string[]>();
  for (const t of tasks) if (!edges.has(t.id)) edges.set(t.id, t.dependsOn.filter((d) => d !== t.id));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const seen = new Set<string>();
  const cycles: string[][] = [];

  const visit = (node: string): void => {
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      if (!edges.has(next)) continue;
      const s = state.get(next);
      if (s === 'visiting') {
        const loop = stack.slice(stack.indexOf(next));
        const start = loop.indexOf([...loop].sort()[0] as string);
        const rotated = [...loop.slice(start), ...loop.slice(0, start)];
        const key = rotated.join('\u0000');
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push([...rotated, rotated[0] as string]);
        }
      } else if (s === undefined) {
        visit(next);
      }
    }
    stack.pop();
    state.set(node, 'done');
  };
  // Plans are capped at MAX_PLAN_TASKS, so recursion depth is bounded.
  for (const id of edges.keys()) if (!state.has(id)) visit(id);
  return cycles;
}

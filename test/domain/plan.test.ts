import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findCycles, parsePlan, planEdges, PlanValidationError, validatePlan, type PlanIssue } from '../../lib/domain/plan';
import { tasksFromPlan } from '../../lib/domain/task';
import { blockedBy, dependantsOf, isSettled, readyTasks, tasksToBlock, type DagNode } from '../../lib/domain/task-graph';
import { newId } from '../../lib/domain/ids';
import type { Status } from '../../lib/domain/status';

const task = (id: string, dependsOn: string[] = [], role = 'developer') => ({ id, role, title: `task ${id}`, spec: 'do it', dependsOn });
const plan = (tasks: unknown[]) => ({ summary: 'a plan', risk: 'low', tasks });

function issuesOf(input: unknown, roles?: Parameters<typeof validatePlan>[1]): PlanIssue[] {
  const result = validatePlan(input, roles);
  return result.ok ? [] : result.issues;
}

describe('plan validation', () => {
  it('accepts a diamond and fills defaults', () => {
    const p = parsePlan(plan([task('a'), task('b', ['a']), task('c', ['a']), task('d', ['b', 'c', 'b'])]));
    expect(p.tasks[0]).toMatchObject({ kind: 'feature', acceptanceCriteria: [], dependsOn: [] });
    expect(p.tasks[3]?.dependsOn).toEqual(['b', 'c']);
    expect(planEdges(p)).toEqual([
      ['b', 'a'],
      ['c', 'a'],
      ['d', 'b'],
      ['d', 'c'],
    ]);
  });

  it('reports a plan with no tasks', () => {
    expect(issuesOf(plan([]))).toEqual([{ kind: 'no-tasks', message: 'plan has no tasks' }]);
  });

  it('reports duplicate ids', () => {
    expect(issuesOf(plan([task('a'), task('a')]))).toContainEqual(expect.objectContaining({ kind: 'duplicate-id', taskId: 'a' }));
  });

  it('reports dependencies on tasks that do not exist', () => {
    expect(issuesOf(plan([task('a', ['ghost'])]))).toEqual([
      { kind: 'unknown-dependency', taskId: 'a', dependsOn: 'ghost', message: 'task a depends on unknown task ghost' },
    ]);
  });

  it('reports self-dependencies (and does not also call them a cycle)', () => {
    expect(issuesOf(plan([task('a', ['a'])]))).toEqual([{ kind: 'self-dependency', taskId: 'a', message: 'task a depends on itself' }]);
  });

  it('names the cycle, starting from its smallest id', () => {
    const issues = issuesOf(plan([task('t1', ['t3']), task('t2'), task('t3', ['t1'])]));
    expect(issues).toEqual([{ kind: 'cycle', cycle: ['t1', 't3', 't1'], message: 'dependency cycle: t1 → t3 → t1' }]);
    try {
      parsePlan(plan([task('t3', ['t1']), task('t1', ['t3'])]));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PlanValidationError);
      expect((error as Error).message).toContain('t1 → t3 → t1');
    }
  });

  it('reports each distinct cycle once', () => {
    const cycles = findCycles([
      { id: 'a', dependsOn: ['b'] },
      { id: 'b', dependsOn: ['c'] },
      { id: 'c', dependsOn: ['a', 'd'] },
      { id: 'd', dependsOn: ['e'] },
      { id: 'e', dependsOn: ['d'] },
    ]);
    expect(cycles).toEqual([
      ['a', 'b', 'c', 'a'],
      ['d', 'e', 'd'],
    ]);
  });

  it('reports unknown and unstaffed roles', () => {
    const issues = issuesOf(plan([task('a', [], 'wizard'), task('b', [], 'ux')]), { roles: ['developer'] });
    expect(issues).toEqual([
      { kind: 'unknown-role', taskId: 'a', role: 'wizard', message: 'task a: role wizard is not a known role' },
      { kind: 'unknown-role', taskId: 'b', role: 'ux', message: 'task b: role ux is not staffed on this project' },
    ]);
  });

  it('reports every issue at once, and structural problems with their path', () => {
    const issues = issuesOf(plan([task('a', ['a', 'x']), task('a')]));
    expect(issues.map((i) => i.kind).sort()).toEqual(['duplicate-id', 'self-dependency', 'unknown-dependency']);
    expect(issuesOf({ summary: '', risk: 'extreme', tasks: [{ id: 'bad id!' }] }).every((i) => i.kind === 'schema')).toBe(true);
    expect(issuesOf({ summary: 's', risk: 'low', tasks: [{ ...task('a'), title: '' }] })).toContainEqual(
      expect.objectContaining({ kind: 'schema', path: 'tasks.0.title' }),
    );
    expect(issuesOf('not a plan')).toHaveLength(1);
  });

  it('accepts any DAG whose edges point backwards, and finds a cycle once one edge points forward', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 30 }).chain((n) =>
          fc.tuple(
            fc.constant(n),
            fc.array(fc.array(fc.nat(), { maxLength: 4 }), { minLength: n, maxLength: n }),
            fc.integer({ min: 1, max: n - 1 }),
          ),
        ),
        ([n, deps, from]) => {
          const tasks = Array.from({ length: n }, (_, i) => task(`t${i}`, i === 0 ? [] : (deps[i] ?? []).map((d) => `t${d % i}`)));
          expect(validatePlan(plan(tasks)).ok).toBe(true);
          // Close a loop: t0 now depends on t<from>, and t<from> on t0.
          tasks[from] = task(`t${from}`, [...tasks[from]!.dependsOn, 't0']);
          tasks[0] = task('t0', [`t${from}`]);
          const issues = issuesOf(plan(tasks));
          expect(issues.some((i) => i.kind === 'cycle')).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('task graph', () => {
  const node = (id: string, status: Status, dependsOn: string[] = []): DagNode => ({ id, status, dependsOn });

  it('ready set on a diamond follows the dependencies', () => {
    const diamond = (s: Record<string, Status>) => [node('a', s.a!), node('b', s.b!, ['a']), node('c', s.c!, ['a']), node('d', s.d!, ['b', 'c'])];
    const ready = (s: Record<string, Status>) => readyTasks(diamond(s)).map((t) => t.id);
    expect(ready({ a: 'PENDING', b: 'PENDING', c: 'PENDING', d: 'PENDING' })).toEqual(['a']);
    expect(ready({ a: 'RUNNING', b: 'PENDING', c: 'PENDING', d: 'PENDING' })).toEqual([]);
    expect(ready({ a: 'SUCCEEDED', b: 'PENDING', c: 'PENDING', d: 'PENDING' })).toEqual(['b', 'c']);
    expect(ready({ a: 'SUCCEEDED', b: 'SUCCEEDED', c: 'RUNNING', d: 'PENDING' })).toEqual([]);
    expect(ready({ a: 'SUCCEEDED', b: 'SUCCEEDED', c: 'SUCCEEDED', d: 'PENDING' })).toEqual(['d']);
    expect(ready({ a: 'SUCCEEDED', b: 'SUCCEEDED', c: 'SUCCEEDED', d: 'SUCCEEDED' })).toEqual([]);
  });

  it('a failure blocks its transitive dependants only', () => {
    const tasks = [node('a', 'SUCCEEDED'), node('b', 'FAILED', ['a']), node('c', 'RUNNING', ['a']), node('d', 'PENDING', ['b', 'c']), node('e', 'PENDING', ['d']), node('f', 'PENDING')];
    expect(dependantsOf(tasks, 'b').map((t) => t.id)).toEqual(['d', 'e']);
    expect(tasksToBlock(tasks, 'b').map((t) => t.id)).toEqual(['d', 'e']);
    expect(blockedBy(tasks, 'e').map((t) => t.id)).toEqual(['b']);
    expect(blockedBy(tasks, 'c')).toEqual([]);
    expect(isSettled(tasks)).toBe(false);
    expect(isSettled([node('a', 'SUCCEEDED'), node('b', 'FAILED'), node('d', 'BLOCKED', ['b'])])).toBe(true);
  });

  it('materialises plan tasks with deterministic ids and mapped dependencies', () => {
    const goal = { id: newId('goal'), projectId: newId('project') };
    const p = parsePlan(plan([task('a'), task('b', ['a'])]));
    const first = tasksFromPlan(p, goal, { now: '2030-01-01T00:00:00.000Z' });
    const second = tasksFromPlan(p, goal, { now: '2030-01-01T00:00:00.000Z' });
    expect(second).toEqual(first);
    expect(first[1]?.dependsOn).toEqual([first[0]?.id]);
    expect(tasksFromPlan(p, goal, { revision: 1 })[0]?.id).not.toBe(first[0]?.id);
    expect(first[0]).toMatchObject({ status: 'PENDING', attempts: 0, modelTier: 0, version: 1, planKey: 'a' });
  });
});

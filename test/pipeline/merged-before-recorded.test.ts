// A developer attempt that merged its change into the goal branch and then stopped before the task
// was recorded SUCCEEDED (here: the store write fails once; in `cahoots dev`, a SIGKILL in that
// window, which the chaos drill found). The next attempt must not run the agent again on top of
// its own merged work, which would apply the change twice: it completes from the merged commit.
import { afterEach, expect, it, vi } from 'vitest';
import { forTask, planTurns, qaTurns, reviewTurns, startHarness, type Harness } from './harness';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const TITLE = 'Log the release';
const LINE = '- 1.1.0 released';

it('completes the task from the merged commit instead of applying its change a second time', async () => {
  h = await startHarness({
    project: { allowedCommands: ['node --test'] },
    // The failed message comes back at once, as a redelivery after a crash would.
    runtime: { visibilityTimeoutSeconds: 3 },
    models: (replay) => ({
      all: [
        replay('m', [
          { name: 'plan', match: { role: 'planner' }, turns: planTurns([{ id: 'a', title: TITLE }]) },
          {
            name: 'a',
            match: forTask('developer', TITLE),
            turns: [
              // An edit, not a write: applied on top of its own earlier result it adds the line again.
              { content: [{ type: 'toolUse', name: 'edit_file', input: { path: 'AGENTS.md', oldString: '# Example\n', newString: `# Example\n\n${LINE}\n` } }] },
              { content: [{ type: 'toolUse', name: 'finish', input: { summary: 'Logged the release.', filesChanged: ['AGENTS.md'] } }] },
            ],
          },
          { name: 'review', match: { role: 'reviewer' }, turns: reviewTurns('approved') },
          { name: 'qa', match: { role: 'qa' }, turns: qaTurns() },
        ]),
      ],
    }),
  });
  const tasks = h.local.store.tasks;
  const transition = tasks.transition.bind(tasks);
  let failed = false;
  vi.spyOn(tasks, 'transition').mockImplementation(async (goalId, taskId, status, ...rest) => {
    const task = await tasks.get(goalId, taskId);
    if (!failed && status === 'SUCCEEDED' && task.role === 'developer') {
      failed = true;
      throw new Error('the store went away after the merge');
    }
    return transition(goalId, taskId, status, ...rest);
  });

  const { goal, executionId } = await h.startGoal('Log the release in AGENTS.md');
  const outcome = await h.wait(executionId);
  expect(failed).toBe(true);
  expect(outcome.status).toBe('SUCCEEDED');

  const agents = h.repo.git('show', `${goal.branch}:AGENTS.md`);
  expect(agents.split('\n').filter((line) => line === LINE)).toHaveLength(1);
  const events = await h.events(goal.id);
  const developer = (await tasks.listAll(goal.id)).find((t) => t.role === 'developer')!;
  const succeeded = events.filter((e) => e.type === 'Task.Succeeded' && e.taskId === developer.id);
  expect(succeeded).toHaveLength(1);
  expect(succeeded[0]!.data).toMatchObject({ turns: 0, recoveredFrom: expect.stringMatching(/^[0-9a-f]{40}$/) });
  expect(developer.outputs).toMatchObject({ summary: 'Logged the release.', filesChanged: ['AGENTS.md'] });
  expect(h.repo.git('log', '--format=%s', `main..${goal.branch}`).split('\n').filter((s) => s === TITLE)).toHaveLength(1);
});

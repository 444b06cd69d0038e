// The terminal and unattended approvers at a budget gate: the question names the limit that
// stopped the goal, and an answer below what was spent against it is asked again.
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { autoApprover, budgetOfGate, promptApprover, type ApprovalGate } from '../../lib/cli/approvals';
import { Output } from '../../lib/cli/output';

function terminal(answers: string[]) {
  let asked = '';
  const stderr = new Writable({
    write(chunk, _encoding, done) {
      asked += String(chunk);
      done();
    },
  });
  const input = new PassThrough();
  input.end(answers.map((a) => `${a}\n`).join(''));
  return { approver: promptApprover(new Output({ stderr }), input), asked: () => asked };
}

const dailyGate: ApprovalGate = {
  goalId: 'goal_01M7ZNE9A9ZYMQ9Z6YTH0BCX63',
  stage: 'budget',
  costUsd: 0.2,
  budgetUsd: 10,
  ...budgetOfGate({ budgetScope: 'project-daily', budgetSpentUsd: 9.95 }),
};

describe('budget gates at the terminal', () => {
  it("asks for a new project daily limit above today's spend, not above the goal's cost", async () => {
    const { approver, asked } = terminal(['5', '25']);
    const answer = await approver.decide(dailyGate);
    approver.close();
    expect(answer).toMatchObject({ decision: 'approve', budgetUsd: 25 });
    expect(asked()).toContain("the project's daily budget of $10.0000, with $9.9500 spent");
    expect(asked()).toContain('raises it for the whole project');
    // $5 is above the goal's $0.20 but below the day's $9.95: it would stop the goal again.
    expect(asked()).toContain('Enter a number of dollars above $9.9500');
  });

  it('keeps the goal wording for a goal-scope gate', async () => {
    const { approver, asked } = terminal(['3']);
    const answer = await approver.decide({ goalId: dailyGate.goalId, stage: 'budget', costUsd: 1.5, budgetUsd: 2, ...budgetOfGate({ budgetScope: 'goal', budgetSpentUsd: 1.5 }) });
    approver.close();
    expect(answer).toMatchObject({ decision: 'approve', budgetUsd: 3 });
    expect(asked()).toContain('The goal has spent $1.5000 of its $2.0000 budget');
  });

  it('an unattended run rejects and says which limit to raise', async () => {
    const answer = await autoApprover.decide(dailyGate);
    expect(answer.decision).toBe('reject');
    expect(answer.comment).toMatch(/project's daily budget of \$10\.0000 is spent.*PATCH the project's budgets/);
  });

  it('ignores an unknown scope in event data', () => {
    expect(budgetOfGate({ budgetScope: 'galaxy', budgetSpentUsd: 'x' })).toEqual({});
  });
});

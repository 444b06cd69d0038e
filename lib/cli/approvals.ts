// Answers a goal's approval gates during `cahoots run`: `auto` approves plans and deliveries but
// never invents money at a budget gate; `prompt` asks the person at the terminal (a new limit for a
// budget gate). The answer goes through the API's decideApproval, as a click in a UI would.
import { createInterface } from 'node:readline/promises';
import type { Readable } from 'node:stream';
import type { Output } from './output';
import { BUDGET_SCOPES, type BudgetScope } from '../domain/goal';
import { usd } from './format';

export interface ApprovalGate {
  goalId: string;
  stage: 'plan' | 'delivery' | 'budget';
  costUsd: number;
  /** Budget gates: the limit that stopped the goal, which limit it is, and what was spent against it. */
  budgetUsd?: number;
  budgetScope?: BudgetScope;
  budgetSpentUsd?: number;
  /** What the plan gate is about, for the question. */
  planSummary?: string;
  branch?: string;
}

export interface ApprovalAnswer {
  decision: 'approve' | 'reject';
  comment?: string;
  budgetUsd?: number;
}

export interface Approver {
  decide(gate: ApprovalGate): Promise<ApprovalAnswer>;
  /** Lets go of the terminal. */
  close?(): void;
}

const LIMIT_NAMES: Record<BudgetScope, string> = {
  goal: "the goal's budget",
  'project-daily': "the project's daily budget",
  'project-monthly': "the project's monthly budget",
};

/** Reads the budget gate's details from a Goal.AwaitingApproval event's data. */
export function budgetOfGate(data: Record<string, unknown>): Pick<ApprovalGate, 'budgetScope' | 'budgetSpentUsd'> {
  const scope = BUDGET_SCOPES.find((s) => s === data.budgetScope);
  return {
    ...(scope ? { budgetScope: scope } : {}),
    ...(typeof data.budgetSpentUsd === 'number' ? { budgetSpentUsd: data.budgetSpentUsd } : {}),
  };
}

export const autoApprover: Approver = {
  async decide(gate) {
    if (gate.stage === 'budget') {
      const scope = gate.budgetScope ?? 'goal';
      const limit = `${LIMIT_NAMES[scope]}${gate.budgetUsd !== undefined ? ` of ${usd(gate.budgetUsd)}` : ''}`;
      const remedy = scope === 'goal' ? 'run again with a larger --budget-usd or with --approve prompt' : 'raise it with --approve prompt or PATCH the project\'s budgets, then run again';
      return { decision: 'reject', comment: `${limit} is spent and --approve auto never raises it; ${remedy}` };
    }
    return { decision: 'approve', comment: 'approved automatically (--approve auto)' };
  },
};

/**
 * Reads answers one line at a time from one reader for the whole run, so lines typed (or piped)
 * ahead of a question are kept for it rather than lost with a closed reader.
 */
class LineReader {
  private readonly lines: string[] = [];
  private readonly waiting: Array<(line: string | undefined) => void> = [];
  private ended = false;
  private readonly rl;

  constructor(input: Readable) {
    this.rl = createInterface({ input, terminal: false });
    this.rl.on('line', (line) => {
      const next = this.waiting.shift();
      if (next) next(line);
      else this.lines.push(line);
    });
    this.rl.on('close', () => {
      this.ended = true;
      for (const next of this.waiting.splice(0)) next(undefined);
    });
  }

  next(): Promise<string | undefined> {
    if (this.lines.length > 0) return Promise.resolve(this.lines.shift());
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  close(): void {
    this.rl.close();
  }
}

/** Asks on the terminal. End of input (stdin closed) counts as a rejection, never as consent. */
export function promptApprover(output: Output, input: Readable = process.stdin): Approver & { close(): void } {
  let reader: LineReader | undefined;
  const ask = async (question: string): Promise<string | undefined> => {
    output.prompt(question);
    reader ??= new LineReader(input);
    const answer = (await reader.next())?.trim();
    // A terminal echoes what was typed; piped answers would leave the question line open.
    if (!(input as { isTTY?: boolean }).isTTY) output.prompt(`${answer ?? '(no answer: input closed)'}\n`);
    return answer;
  };
  const yesNo = async (question: string): Promise<boolean | undefined> => {
    for (;;) {
      const answer = await ask(`${question} [y/n] `);
      if (answer === undefined) return undefined;
      if (/^(y|yes)$/i.test(answer)) return true;
      if (/^(n|no)$/i.test(answer)) return false;
      output.prompt('Please answer y or n.\n');
    }
  };
  return {
    close: () => reader?.close(),
    async decide(gate) {
      if (gate.stage === 'budget') {
        const scope = gate.budgetScope ?? 'goal';
        const spent = gate.budgetSpentUsd ?? gate.costUsd;
        const question =
          scope === 'goal'
            ? `The goal has spent ${usd(spent)}${gate.budgetUsd !== undefined ? ` of its ${usd(gate.budgetUsd)} budget` : ''}. New limit in USD (empty to stop the goal): `
            : `The goal stopped on ${LIMIT_NAMES[scope]}${gate.budgetUsd !== undefined ? ` of ${usd(gate.budgetUsd)}` : ''}, with ${usd(spent)} spent. ` +
              `A new limit raises it for the whole project. New limit in USD (empty to stop the goal): `;
        for (;;) {
          const answer = await ask(question);
          if (answer === undefined) return { decision: 'reject', comment: 'no answer at the terminal (input closed)' };
          if (answer === '') return { decision: 'reject', comment: 'stopped at the budget gate' };
          const value = Number(answer.replace(/^\$/, ''));
          if (Number.isFinite(value) && value > spent) return { decision: 'approve', budgetUsd: value, comment: `${LIMIT_NAMES[scope]} raised to ${usd(value)}` };
          output.prompt(`Enter a number of dollars above ${usd(spent)}, or nothing to stop.\n`);
        }
      }
      const question =
        gate.stage === 'plan'
          ? `Approve the plan${gate.planSummary ? ` "${gate.planSummary}"` : ''}?`
          : `Deliver the result on ${gate.branch ?? 'the goal branch'}?`;
      const yes = await yesNo(question);
      if (yes === undefined) return { decision: 'reject', comment: 'no answer at the terminal (input closed)' };
      return yes ? { decision: 'approve', comment: 'approved at the terminal' } : { decision: 'reject', comment: 'rejected at the terminal' };
    },
  };
}

// What each chaos goal asks for and what its delivered branch must hold afterwards. A goal gets a
// fresh repository with one ledger file per possible task; its plan has one to three developer
// tasks, each writing its own files and then appending one line to its ledger with an edit.
// Files a task writes are overwritten whole by any later attempt, but the ledger edit is not: an
// attempt that starts from the leftovers of a killed one appends its line twice, and the tree
// comparison shows it.
import type { Random } from './random';

export const MAX_TASKS = 3;

/** The marker every ledger edit inserts its line before. */
export const LEDGER_END = '<!-- end -->';

export interface ChaosTask {
  /** The plan's id, `t1` … */
  id: string;
  /** `<goal key>.<task id>`: how the scripted model recognises the task in its prompt. */
  key: string;
  title: string;
  dependsOn: string[];
  /** Files the task creates, in the order its developer writes them. */
  files: Array<{ path: string; content: string }>;
  ledger: { path: string; line: string };
}

export interface ChaosGoal {
  /** `g<n>`, unique within a run. */
  key: string;
  title: string;
  tasks: ChaosTask[];
}

export const ledgerPath = (taskId: string) => `ledgers/${taskId}.md`;
const ledgerText = (taskId: string, lines: string[]) => [`# Ledger of ${taskId}`, '', ...lines, LEDGER_END, ''].join('\n');

/** The repository every goal starts from: a tiny Node project whose test QA runs, and the ledgers. */
export function baseFiles(): Record<string, string> {
  const files: Record<string, string> = {
    'README.md': '# Chaos drill\n\nFiles written by scripted agents while the runtime is killed and restarted.\n',
    'package.json': '{\n  "name": "chaos-drill",\n  "private": true,\n  "type": "module"\n}\n',
    'test/base.test.js': "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\n\ntest('the drill repository loads', () => assert.equal(1 + 1, 2));\n",
  };
  for (let i = 1; i <= MAX_TASKS; i++) files[ledgerPath(`t${i}`)] = ledgerText(`t${i}`, []);
  return files;
}

const WORDS = ['amber', 'birch', 'cedar', 'delta', 'ember', 'fjord', 'grove', 'harbor', 'iris', 'juniper', 'kestrel', 'lumen', 'meadow', 'nectar', 'orchid', 'pebble'];

/** The plan of goal number `index`, drawn from `random`. */
export function planGoal(index: number, random: Random): ChaosGoal {
  const key = `g${index}`;
  const count = random.int(1, MAX_TASKS);
  const tasks: ChaosTask[] = [];
  for (let i = 1; i <= count; i++) {
    const id = `t${i}`;
    // Some tasks wait for an earlier one, so both waves and parallel tasks are exercised.
    const dependsOn = i > 1 && random.next() < 0.5 ? [`t${random.int(1, i - 1)}`] : [];
    const files = Array.from({ length: random.int(1, 3) }, (_, n) => {
      const word = random.pick(WORDS);
      const lines = Array.from({ length: random.int(1, 6) }, (_, l) => `${word} ${l + 1}: ${random.next().toString(36).slice(2)}`);
      return { path: `notes/${key}/${id}-${n + 1}-${word}.md`, content: `${lines.join('\n')}\n` };
    });
    tasks.push({
      id,
      key: `${key}.${id}`,
      title: `Write the notes of ${key}.${id}`,
      dependsOn,
      files,
      ledger: { path: ledgerPath(id), line: `- ${key}.${id} wrote ${files.length} file(s)` },
    });
  }
  return { key, title: `Chaos goal ${key}: write ${tasks.length} set(s) of notes`, tasks };
}

/** Every file the goal's delivered branch must hold, with its content: nothing more, nothing less. */
export function expectedTree(goal: ChaosGoal): Record<string, string> {
  const tree = baseFiles();
  for (const task of goal.tasks) {
    for (const file of task.files) tree[file.path] = file.content;
    tree[task.ledger.path] = ledgerText(task.id, [task.ledger.line]);
  }
  return tree;
}

/** Model calls a goal takes without faults: plan, each developer's turns, review, two QA turns. */
export function modelCallsOf(goal: ChaosGoal): number {
  return 1 + goal.tasks.reduce((n, task) => n + task.files.length + 2, 0) + 1 + 2;
}

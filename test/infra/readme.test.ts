// The README and docs/architecture.md repeat a few facts that live elsewhere — the cell's stacks,
// the monthly cost computed in docs/deploy.md, the npm scripts, the Node requirement. These tests
// keep the copies in step with their source.
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { buildApp } from '../../infra/app';
import { REPO_ROOT } from '../../infra/paths';
import { testContext } from './helpers';

const read = (file: string) => fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');
const README = read('README.md');
const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];

/** `| \`nat\` + \`full\` | … | **$162.50** |` rows of a cost table, as combination → monthly total. */
function monthlyTotals(doc: string): Map<string, string> {
  const totals = new Map<string, string>();
  for (const line of doc.split('\n')) {
    const match = /^\| `(\w+)` \+ `(\w+)` \|.*\*\*(\$[\d.]+)\*\* \|$/.exec(line);
    if (match) totals.set(`${match[1]} + ${match[2]}`, match[3]!);
  }
  return totals;
}

it("the README's monthly cost of a cell is docs/deploy.md's", () => {
  const fromDeploy = monthlyTotals(read('docs/deploy.md'));
  expect(fromDeploy.size, 'the cost table in docs/deploy.md').toBe(4);
  expect(monthlyTotals(README)).toEqual(fromDeploy);
});

it('the README and docs/architecture.md name every stack of a cell, in deploy order', () => {
  const { cells } = buildApp({ context: testContext(), customerIds: ['acme'] });
  const names = cells[0]!.stacks.map((stack) => stack.stackName.replace('Cahoots-acme-', ''));
  expect(README).toContain(`Each cell is ${NUMBER_WORDS[names.length]} stacks`);
  const readmeOrder = [...README.matchAll(/\*\*(\w+)\*\* \(/g)].map((match) => match[1]).filter((name) => names.includes(name!));
  expect(readmeOrder).toEqual(names);
  const architecture = read('docs/architecture.md');
  const section = architecture.slice(architecture.indexOf('## The cell'), architecture.indexOf('## The local runtime'));
  const rows = section.split('\n').filter((line) => /^\| [A-Z]\w+ \|/.test(line)).map((line) => line.split('|')[1]!.trim());
  expect(rows).toEqual(names);
});

it('the README lists every npm script', () => {
  const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
  const listed = [...README.matchAll(/^\| `npm (?:run )?([\w:]+)[^`]*` \|/gm)].map((match) => match[1]);
  expect([...listed].sort()).toEqual(Object.keys(scripts).sort());
});

it("the README's Node requirement is package.json's engines", () => {
  const { engines } = JSON.parse(read('package.json')) as { engines: { node: string } };
  const minimum = /^>=(\d+\.\d+)$/.exec(engines.node)?.[1];
  expect(minimum, `engines.node ${engines.node} is a ">=" range`).toBeDefined();
  expect(README).toContain(`Node.js ${minimum} or newer`);
});

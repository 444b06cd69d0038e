// docs/deploy.md quotes the endpoint sets and prices them and lists the cell's stacks; this keeps the
// page and the code in step.
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { buildApp } from '../../infra/app';
import { CELL_AZ_COUNT, INTERFACE_ENDPOINT_SETS } from '../../infra/constructs/cell-network';
import { REPO_ROOT } from '../../infra/paths';
import { testContext } from './helpers';

const HOURS_PER_MONTH = 730;
const ENDPOINT_PRICE_PER_AZ_HOUR = 0.01;

it.each(['full', 'minimal'] as const)('docs/deploy.md lists and prices the %s endpoint set as the code builds it', (profile) => {
  const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'deploy.md'), 'utf8');
  const row = doc.split('\n').find((line) => line.startsWith(`| \`${profile}\` set: `));
  expect(row, `a "${profile} set" row in the cost table`).toBeDefined();
  const listed = row!
    .slice(`| \`${profile}\` set: `.length)
    .split('|')[0]!
    .split(',')
    .map((name) => name.trim());
  const expected = INTERFACE_ENDPOINT_SETS[profile];
  expect(listed).toEqual([...expected]);

  const monthly = expected.length * CELL_AZ_COUNT * HOURS_PER_MONTH * ENDPOINT_PRICE_PER_AZ_HOUR;
  expect(row).toContain(`${expected.length} endpoints`);
  expect(row).toContain(`$${monthly.toFixed(2)}`);
});

it('docs/deploy.md describes every stack of a cell, in deploy order', () => {
  const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'deploy.md'), 'utf8');
  const { cells } = buildApp({ context: testContext(), customerIds: ['acme'] });
  const stackNames = cells[0]!.stacks.map((stack) => stack.stackName.replace('Cahoots-acme-', 'Cahoots-<id>-'));
  const tableRows = doc.split('\n').filter((line) => /^\| `Cahoots-<id>-\w+` \|/.test(line));
  expect(tableRows.map((line) => line.split('`')[1])).toEqual(stackNames);
  // The deploy section lists the same order `--all` deploys in.
  const deploySection = doc.slice(doc.indexOf('## Deploy'), doc.indexOf('## What each stack holds')).replace(/\s+/g, ' ');
  expect(deploySection).toContain(stackNames.map((name) => `\`${name}\``).join(', '));
});

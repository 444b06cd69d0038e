// The customer file's own settings reach the functions that use them.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { buildApp } from '../../infra/app';
import { CUSTOMERS_DIR } from '../../infra/paths';
import { readRuntimeConfig } from '../../lib/runtime';
import { removeTempDirs, stackTemplates, tempOutdir, testContext } from './helpers';

afterAll(removeTempDirs);

function withChange(change: (config: Record<string, unknown>) => void): string {
  const dir = tempOutdir('customers');
  const example = JSON.parse(fs.readFileSync(path.join(CUSTOMERS_DIR, 'example.json'), 'utf8')) as Record<string, unknown>;
  change(example);
  fs.writeFileSync(path.join(dir, 'example.json'), JSON.stringify(example));
  return dir;
}

it("hands the customer file's prices to every agent worker, where the runtime reads them", () => {
  const prices = { 'bedrock:eu.amazon.nova-lite-v1:0': { input: 0.07, output: 0.28 } };
  const customersDir = withChange((config) => (config.prices = prices));
  const { app, cells } = buildApp({ outdir: tempOutdir('prices'), context: testContext(), customersDir, customerIds: ['example'] });
  app.synth();
  const agents = stackTemplates([cells[0]!.agents])[0]!.json;
  const workers = Object.values(agents.Resources).filter((r) => r.Type === 'AWS::Lambda::Function' && JSON.stringify(r.Properties!.Environment).includes('AGENT_ROLE'));
  expect(workers).toHaveLength(5);
  for (const worker of workers) {
    const variables = (worker.Properties!.Environment as { Variables: Record<string, string> }).Variables;
    expect(readRuntimeConfig({ CAHOOTS_PRICES: variables.CAHOOTS_PRICES }).prices).toEqual(prices);
  }
});

it('refuses prices that are not a price table, naming the field', () => {
  const customersDir = withChange((config) => (config.prices = { 'bedrock:x': { input: 'cheap' } }));
  expect(() => buildApp({ outdir: tempOutdir('prices'), context: testContext(), customersDir, customerIds: ['example'] })).toThrow(/prices\.bedrock:x\.input/);
});

it("hands the customer file's project defaults to the create-project function alone, where the runtime reads them", () => {
  const projectDefaults = { autonomyLevel: 3, budgets: { perGoalUsd: 7 }, modelPolicy: { planner: ['bedrock:eu.amazon.nova-lite-v1:0'], developer: ['bedrock:eu.amazon.nova-lite-v1:0'], ux: ['bedrock:eu.amazon.nova-lite-v1:0'], qa: ['bedrock:eu.amazon.nova-lite-v1:0'], reviewer: ['bedrock:eu.amazon.nova-lite-v1:0'] } };
  const customersDir = withChange((config) => (config.projectDefaults = projectDefaults));
  const { app, cells } = buildApp({ outdir: tempOutdir('defaults'), context: testContext(), customersDir, customerIds: ['example'] });
  app.synth();
  const api = stackTemplates([cells[0]!.api])[0]!.json;
  const functions = Object.values(api.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
  const withDefaults = functions.filter((f) => JSON.stringify(f.Properties!.Environment ?? {}).includes('CAHOOTS_PROJECT_DEFAULTS'));
  expect(withDefaults.map((f) => f.Properties!.Description)).toEqual(['POST /projects']);
  const variables = (withDefaults[0]!.Properties!.Environment as { Variables: Record<string, string> }).Variables;
  expect(readRuntimeConfig({ CAHOOTS_PROJECT_DEFAULTS: variables.CAHOOTS_PROJECT_DEFAULTS }).projectDefaults).toEqual(projectDefaults);
});

// Projects created through the API take the deployment's project defaults (the customer file's
// `projectDefaults`, CAHOOTS_PROJECT_DEFAULTS in a cell) for what the request leaves out, and
// never start without a per-goal spend cap.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createProjectRoute } from '../../lib/api/routes';
import { FALLBACK_PER_GOAL_BUDGET_USD, type ProjectDefaults } from '../../lib/domain/settings';
import { readRuntimeConfig } from '../../lib/runtime';
import { RUNTIME_ENV } from '../../lib/runtime-env';
import { expectRouteSuccess, newProjectBody, request, startApi, type ApiTestContext } from './support';

const DEFAULTS: ProjectDefaults = {
  autonomyLevel: 4,
  budgets: { perGoalUsd: 25, perProjectDailyUsd: 100 },
  modelPolicy: { developer: ['bedrock:eu.amazon.nova-lite-v1:0'] },
};

let api: ApiTestContext;

beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.stop());
afterEach(() => {
  delete api.deps.projectDefaults;
});

async function createProject(body: Record<string, unknown>) {
  const response = await request('POST', '/projects', { json: body });
  expectRouteSuccess(createProjectRoute, response);
  const stored = await api.store.projects.get(response.body.id);
  expect(stored).toEqual(response.body);
  return stored;
}

describe('POST /projects with the deployment’s project defaults', () => {
  it('fills autonomy, budgets and model policy the request leaves out', async () => {
    api.deps.projectDefaults = DEFAULTS;
    const project = await createProject(newProjectBody());
    expect(project).toMatchObject({ autonomyLevel: 4, budgets: DEFAULTS.budgets, modelPolicy: DEFAULTS.modelPolicy });
  });

  it('keeps what the request gives, budget field by budget field', async () => {
    api.deps.projectDefaults = DEFAULTS;
    const project = await createProject({ ...newProjectBody(), autonomyLevel: 1, budgets: { perGoalUsd: 3, perProjectMonthlyUsd: 500 }, modelPolicy: { qa: ['bedrock:eu.amazon.nova-pro-v1:0'] } });
    expect(project.autonomyLevel).toBe(1);
    expect(project.budgets).toEqual({ perGoalUsd: 3, perProjectDailyUsd: 100, perProjectMonthlyUsd: 500 });
    expect(project.modelPolicy).toEqual({ qa: ['bedrock:eu.amazon.nova-pro-v1:0'] });
  });

  it('caps a goal’s spend at the fallback when the defaults have no per-goal budget', async () => {
    api.deps.projectDefaults = { ...DEFAULTS, budgets: { perProjectDailyUsd: 100 } };
    const project = await createProject(newProjectBody());
    expect(project.budgets).toEqual({ perGoalUsd: FALLBACK_PER_GOAL_BUDGET_USD, perProjectDailyUsd: 100 });
  });
});

describe('POST /projects without project defaults (local)', () => {
  it('uses the domain defaults and still caps a goal’s spend', async () => {
    const project = await createProject(newProjectBody());
    expect(project).toMatchObject({ autonomyLevel: 2, modelPolicy: {}, budgets: { perGoalUsd: FALLBACK_PER_GOAL_BUDGET_USD } });
  });

  it('keeps a per-goal budget of 0 the request asks for', async () => {
    const project = await createProject({ ...newProjectBody(), budgets: { perGoalUsd: 0 } });
    expect(project.budgets).toEqual({ perGoalUsd: 0 });
  });
});

describe(RUNTIME_ENV.projectDefaults, () => {
  it('is read as JSON into the runtime config, and absent when unset', () => {
    expect(readRuntimeConfig({ [RUNTIME_ENV.projectDefaults]: JSON.stringify(DEFAULTS) }).projectDefaults).toEqual(DEFAULTS);
    expect(readRuntimeConfig({}).projectDefaults).toBeUndefined();
  });

  it('refuses a value that is not JSON or not project defaults, naming the variable and the field', () => {
    expect(() => readRuntimeConfig({ [RUNTIME_ENV.projectDefaults]: '{autonomy' })).toThrow(/^CAHOOTS_PROJECT_DEFAULTS is not valid JSON$/);
    const wrong = { ...DEFAULTS, budgets: { perGoalUsd: -1 } };
    expect(() => readRuntimeConfig({ [RUNTIME_ENV.projectDefaults]: JSON.stringify(wrong) })).toThrow(/CAHOOTS_PROJECT_DEFAULTS at budgets\.perGoalUsd: /);
    expect(() => readRuntimeConfig({ [RUNTIME_ENV.projectDefaults]: JSON.stringify({ autonomyLevel: 2 }) })).toThrow(/CAHOOTS_PROJECT_DEFAULTS at budgets: /);
  });
});

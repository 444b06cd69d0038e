import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setApiDependencies } from '../../lib/api/dependencies';
import { createFindingGoalRoute, getCostsRoute, listFindingsRoute, startDetectionRoute, updateFindingRoute } from '../../lib/api/routes';
import { findingId, newId, scoreFinding } from '../../lib/domain/index';
import { projectStream } from '../../lib/store/index';
import { expectError, expectRouteSuccess, newProjectBody, request, startApi, type ApiTestContext } from './support';

let api: ApiTestContext;
let projectId: string;

beforeAll(async () => {
  api = await startApi();
  projectId = (await request('POST', '/projects', { json: newProjectBody() })).body.id;
});
afterAll(() => api.stop());

describe('findings', () => {
  it('lists a project’s findings, by status best score first, with paging', async () => {
    const fixtures = [
      { fingerprint: 'todo:src/a.ts:10', severity: 'low', effort: 'trivial' },
      { fingerprint: 'vuln:lodash@4.17.20', severity: 'critical', effort: 'small' },
      { fingerprint: 'test:login.spec.ts', severity: 'high', effort: 'medium' },
    ] as const;
    for (const f of fixtures) {
      await api.store.findings.upsert({
        projectId,
        detector: 'todo',
        fingerprint: f.fingerprint,
        title: `finding ${f.fingerprint}`,
        severity: f.severity,
        effort: f.effort,
        score: scoreFinding(f.severity, f.effort),
      });
    }
    await api.store.findings.setStatus(projectId, 'todo:src/a.ts:10', 'dismissed');

    const all = await request('GET', `/projects/${projectId}/findings`);
    expectRouteSuccess(listFindingsRoute, all);
    expect(all.body.items).toHaveLength(3);

    const open = await request('GET', `/projects/${projectId}/findings`, { query: { status: 'open' } });
    expect(open.body.items.map((f: { fingerprint: string }) => f.fingerprint)).toEqual(['vuln:lodash@4.17.20', 'test:login.spec.ts']);

    const firstPage = await request('GET', `/projects/${projectId}/findings`, { query: { status: 'open', limit: '1' } });
    expect(firstPage.body.items).toHaveLength(1);
    const secondPage = await request('GET', `/projects/${projectId}/findings`, { query: { status: 'open', limit: '1', cursor: firstPage.body.cursor } });
    expect(secondPage.body.items[0].fingerprint).toBe('test:login.spec.ts');

    const dismissed = await request('GET', `/projects/${projectId}/findings`, { query: { status: 'dismissed' } });
    expect(dismissed.body.items.map((f: { fingerprint: string }) => f.fingerprint)).toEqual(['todo:src/a.ts:10']);

    expectError(await request('GET', `/projects/${projectId}/findings`, { query: { status: 'closed' } }), 400, 'ValidationFailed');
    expectError(await request('GET', `/projects/${newId('project')}/findings`), 404, 'NotFound');
  });
});

describe('the analyst setting', () => {
  it('is off for a new project, turned on with PATCH, and refused with the field named when out of range', async () => {
    const created = await request('POST', '/projects', { json: newProjectBody() });
    expect(created.body.detection.detectors).not.toContain('analyst');
    const enabled = await request('PATCH', `/projects/${created.body.id}`, { json: { detection: { detectors: ['todo', 'analyst'], analyst: { budgetUsd: 1 } } } });
    expect(enabled.status, JSON.stringify(enabled.body)).toBe(200);
    expect(enabled.body.detection).toMatchObject({ detectors: ['todo', 'analyst'], analyst: { budgetUsd: 1 }, maxGoalsPerDay: 2 });
    const refused = await request('PATCH', `/projects/${created.body.id}`, { json: { detection: { analyst: { budgetUsd: 0 } } } });
    expectError(refused, 400, 'ValidationFailed');
    expect(JSON.stringify(refused.body)).toContain('analyst budgetUsd must be more than 0');
  });
});

describe('acting on findings', () => {
  async function fileFinding(fingerprint: string, detector: string, severity: 'low' | 'medium' | 'high' | 'critical') {
    await api.store.findings.upsert({ projectId, detector, fingerprint, title: `finding ${fingerprint}`, severity, effort: 'small', score: scoreFinding(severity, 'small') });
    return findingId(projectId, fingerprint);
  }

  it('filters by detector and severity, and gives every finding its id', async () => {
    await fileFinding('type-errors:aaaaaaaa1', 'type-errors', 'high');
    await fileFinding('failing-tests:bbbbbbbb1', 'failing-tests', 'high');
    const typeErrors = await request('GET', `/projects/${projectId}/findings`, { query: { detector: 'type-errors' } });
    expectRouteSuccess(listFindingsRoute, typeErrors);
    expect(typeErrors.body.items.map((f: { fingerprint: string }) => f.fingerprint)).toEqual(['type-errors:aaaaaaaa1']);
    expect(typeErrors.body.items[0].id).toBe(findingId(projectId, 'type-errors:aaaaaaaa1'));
    const high = await request('GET', `/projects/${projectId}/findings`, { query: { status: 'open', severity: 'high' } });
    expect(high.body.items.map((f: { fingerprint: string }) => f.fingerprint).sort()).toEqual(['failing-tests:bbbbbbbb1', 'test:login.spec.ts', 'type-errors:aaaaaaaa1']);
    expectError(await request('GET', `/projects/${projectId}/findings`, { query: { detector: 'astrology' } }), 400, 'ValidationFailed');
  });

  it('dismisses and reopens a finding, recording who did it', async () => {
    const id = await fileFinding('todo:cccccccc1', 'todo', 'low');
    const dismissed = await request('PATCH', `/findings/${id}`, { json: { status: 'dismissed', reason: 'intended' } });
    expectRouteSuccess(updateFindingRoute, dismissed);
    expect(dismissed.body).toMatchObject({ id, status: 'dismissed' });
    const reopened = await request('PATCH', `/findings/${id}`, { json: { status: 'open' } });
    expect(reopened.body.status).toBe('open');
    const events = await api.store.events.readEvents(projectStream(projectId), 0, 100);
    expect(events.events.filter((e) => e.data.fingerprint === 'todo:cccccccc1').map((e) => [e.type, e.actor.kind, e.data.reason])).toEqual([
      ['Finding.Dismissed', 'user', 'intended'],
      ['Finding.Reopened', 'user', undefined],
    ]);
    expectError(await request('PATCH', `/findings/${id}`, { json: { status: 'resolved' } }), 400, 'ValidationFailed');
    expectError(await request('PATCH', '/findings/fnd_bm90LWFuLWlk', { json: { status: 'open' } }), 404, 'NotFound');
    expectError(await request('PATCH', `/findings/${findingId(projectId, 'todo:unknown99')}`, { json: { status: 'open' } }), 404, 'NotFound');
  });

  it('filters by kind, marks the analyst\'s proposals, and turns a proposal into a goal when a person asks', async () => {
    await api.store.findings.upsert({ projectId, detector: 'analyst', kind: 'proposal', fingerprint: 'analyst:eeeeeeee1', title: 'Split the router', severity: 'medium', effort: 'medium', score: 75 });
    const proposals = await request('GET', `/projects/${projectId}/findings`, { query: { kind: 'proposal' } });
    expectRouteSuccess(listFindingsRoute, proposals);
    expect(proposals.body.items.map((f: { fingerprint: string; kind: string }) => [f.fingerprint, f.kind])).toEqual([['analyst:eeeeeeee1', 'proposal']]);
    const problems = await request('GET', `/projects/${projectId}/findings`, { query: { kind: 'problem' } });
    expect(problems.body.items.length).toBeGreaterThan(0);
    expect(problems.body.items.every((f: { kind: string }) => f.kind === 'problem')).toBe(true);
    expectError(await request('GET', `/projects/${projectId}/findings`, { query: { kind: 'idea' } }), 400, 'ValidationFailed');
    const created = await request('POST', `/findings/${findingId(projectId, 'analyst:eeeeeeee1')}/goal`);
    expect(created.body).toMatchObject({ source: 'detection', sourceRef: 'analyst:eeeeeeee1' });
  });

  it('turns an open finding into a started goal once, and refuses one in progress', async () => {
    const id = await fileFinding('failing-tests:dddddddd1', 'failing-tests', 'critical');
    const created = await request('POST', `/findings/${id}/goal`, { json: { autonomyOverride: 2 } });
    expectRouteSuccess(createFindingGoalRoute, created);
    expect(created.body).toMatchObject({ source: 'detection', sourceRef: 'failing-tests:dddddddd1', priority: 'CRITICAL', autonomyOverride: 2 });
    expect(api.pipeline.starts).toContainEqual({ goalId: created.body.id, projectId });
    expect(await api.store.findings.get(projectId, 'failing-tests:dddddddd1')).toMatchObject({ status: 'in-progress', goalId: created.body.id });
    expectError(await request('POST', `/findings/${id}/goal`), 409, 'FindingNotOpen');
  });

  it('starts a detection run (202), or says why it cannot', async () => {
    expectError(await request('POST', `/projects/${projectId}/detections`), 503, 'DetectionUnavailable');
    const runs: Array<{ projectId: string; trigger: string }> = [];
    setApiDependencies({
      ...api.deps,
      detection: {
        async startDetection(input) {
          runs.push(input);
          return { executionId: `local:detect-work:${runs.length}` };
        },
      },
    });
    try {
      const started = await request('POST', `/projects/${projectId}/detections`);
      expectRouteSuccess(startDetectionRoute, started);
      expect(started.body).toEqual({ projectId, trigger: 'manual', executionId: 'local:detect-work:1' });
      expect(runs).toEqual([{ projectId, trigger: 'manual' }]);
      expectError(await request('POST', `/projects/${newId('project')}/detections`), 404, 'NotFound');
    } finally {
      setApiDependencies(api.deps);
    }
  });
});

describe('costs', () => {
  it('aggregates usage counters into totals, every day of the range, and models by spend', async () => {
    await api.store.usage.addUsage(projectId, '2025-03-01', 'bedrock:claude-sonnet', { inputTokens: 1000, outputTokens: 200, usd: 0.1, calls: 2 });
    await api.store.usage.addUsage(projectId, '2025-03-01', 'bedrock:claude-haiku', { inputTokens: 500, outputTokens: 50, usd: 0.02, calls: 1 });
    await api.store.usage.addUsage(projectId, '2025-03-03', 'bedrock:claude-sonnet', { inputTokens: 3000, cacheReadTokens: 900, usd: 0.2, calls: 3 });
    await api.store.usage.addUsage(projectId, '2025-03-05', 'bedrock:claude-sonnet', { inputTokens: 7, usd: 5, calls: 1 }); // outside the range

    const response = await request('GET', `/projects/${projectId}/costs`, { query: { from: '2025-03-01', to: '2025-03-04' } });
    expectRouteSuccess(getCostsRoute, response);
    const report = response.body;
    expect(report).toMatchObject({ projectId, from: '2025-03-01', to: '2025-03-04', currency: 'USD' });
    expect(report.total).toEqual({ inputTokens: 4500, outputTokens: 250, cacheReadTokens: 900, cacheWriteTokens: 0, usd: 0.32, calls: 6 });
    expect(report.byDay.map((d: { day: string; usd: number }) => [d.day, d.usd])).toEqual([
      ['2025-03-01', 0.12],
      ['2025-03-02', 0],
      ['2025-03-03', 0.2],
      ['2025-03-04', 0],
    ]);
    expect(report.byModel).toEqual([
      { model: 'bedrock:claude-sonnet', inputTokens: 4000, outputTokens: 200, cacheReadTokens: 900, cacheWriteTokens: 0, usd: 0.3, calls: 5 },
      { model: 'bedrock:claude-haiku', inputTokens: 500, outputTokens: 50, cacheReadTokens: 0, cacheWriteTokens: 0, usd: 0.02, calls: 1 },
    ]);
  });

  it('defaults to the 30 days up to today', async () => {
    setApiDependencies({ ...api.deps, clock: () => new Date('2025-03-05T12:00:00.000Z') });
    try {
      const response = await request('GET', `/projects/${projectId}/costs`);
      expect(response.body).toMatchObject({ from: '2025-02-04', to: '2025-03-05' });
      expect(response.body.byDay).toHaveLength(30);
      expect(response.body.total.usd).toBe(5.32);
    } finally {
      setApiDependencies(api.deps);
    }
  });

  it('refuses reversed, too long and malformed ranges with 400, and unknown projects with 404', async () => {
    const costs = (query: Record<string, string>) => request('GET', `/projects/${projectId}/costs`, { query });
    expectError(await costs({ from: '2025-03-02', to: '2025-03-01' }), 400, 'ValidationFailed');
    expectError(await costs({ from: '2023-01-01', to: '2025-01-01' }), 400, 'ValidationFailed');
    expectError(await costs({ from: '2025-02-30' }), 400, 'ValidationFailed');
    expectError(await costs({ to: '03/01/2025' }), 400, 'ValidationFailed');
    expectError(await costs({ since: '2025-03-01' }), 400, 'ValidationFailed');
    expectError(await request('GET', `/projects/${newId('project')}/costs`), 404, 'NotFound');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tasksFromPlan } from '../../lib/domain/task';
import { parsePlan } from '../../lib/domain/plan';
import { createStore, InvalidCursorError, StoreInputError, type Page, type PageRequest, type Store } from '../../lib/store/index';
import { startDynalite, type LocalDynamo } from '../support/dynalite';

let db: LocalDynamo;
let store: Store;

beforeAll(async () => {
  db = await startDynalite();
  store = createStore(db.store);
});
afterAll(() => db.stop());

async function collect<T>(list: (page: PageRequest) => Promise<Page<T>>, limit: number): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await list({ limit, cursor });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    items.push(...page.items);
    cursor = page.cursor;
    pages++;
  } while (cursor);
  return { items, pages };
}

describe('paging', () => {
  it('returns every goal of a project exactly once, newest first, in pages of 3', async () => {
    let tick = Date.parse('2030-01-01T00:00:00.000Z');
    const clocked = createStore({ ...db.store, clock: () => new Date((tick += 1000)) });
    const project = await clocked.projects.create({ name: 'paging', repo: { path: '/srv/repo' } });
    const created = [];
    for (let i = 0; i < 20; i++) created.push(await clocked.goals.create({ projectId: project.id, title: `goal ${i}` }));

    const { items, pages } = await collect((p) => store.goals.listByProject(project.id, p), 3);
    expect(items.map((g) => g.id)).toEqual(created.map((g) => g.id).reverse());
    expect(pages).toBeGreaterThanOrEqual(7);

    const oldest = await collect((p) => store.goals.listByProject(project.id, { ...p, order: 'oldest' }), 3);
    expect(oldest.items.map((g) => g.id)).toEqual(created.map((g) => g.id));

    const pending = await collect((p) => store.goals.listByStatus(project.id, 'PENDING', p), 3);
    expect(new Set(pending.items.map((g) => g.id))).toEqual(new Set(created.map((g) => g.id)));
    expect(pending.items).toHaveLength(20);
  });

  it('pages through the tasks of a goal', async () => {
    const project = await store.projects.create({ name: 'tasks', repo: { path: '/srv/repo' } });
    const goal = await store.goals.create({ projectId: project.id, title: 'many tasks' });
    const plan = parsePlan({
      summary: 'twenty independent tasks',
      risk: 'low',
      tasks: Array.from({ length: 20 }, (_, i) => ({ id: `t${i}`, role: 'developer', title: `task ${i}`, spec: 'do it' })),
    });
    await store.tasks.createMany(tasksFromPlan(plan, goal));

    const { items } = await collect((p) => store.tasks.listByGoal(goal.id, p), 3);
    expect(items).toHaveLength(20);
    expect(new Set(items.map((t) => t.planKey)).size).toBe(20);
    expect(await store.tasks.listAll(goal.id)).toHaveLength(20);
  });

  it('rejects a garbage, tampered or foreign cursor with InvalidCursorError', async () => {
    const project = await store.projects.create({ name: 'cursors', repo: { path: '/srv/repo' } });
    const other = await store.projects.create({ name: 'other', repo: { path: '/srv/other' } });
    for (let i = 0; i < 4; i++) {
      await store.goals.create({ projectId: project.id, title: `g${i}` });
      await store.goals.create({ projectId: other.id, title: `g${i}` });
    }
    const first = await store.goals.listByProject(project.id, { limit: 2 });
    expect(first.cursor).toBeDefined();

    const bad = [
      'not a cursor!',
      'AAAA',
      Buffer.from('{"v":1,"k":"x"}').toString('base64url'),
      Buffer.from('{"v":1,"k":{"PK":1}}').toString('base64url'),
      'x'.repeat(5000),
      '',
    ];
    for (const cursor of bad) await expect(store.goals.listByProject(project.id, { cursor })).rejects.toBeInstanceOf(InvalidCursorError);

    // A real cursor of another project's listing, or of a different index, does not fit here.
    await expect(store.goals.listByProject(other.id, { cursor: first.cursor })).rejects.toBeInstanceOf(InvalidCursorError);
    await expect(store.goals.listByStatus(project.id, 'PENDING', { cursor: first.cursor })).rejects.toBeInstanceOf(InvalidCursorError);
    await expect(store.lessons.list(project.id, { cursor: first.cursor })).rejects.toBeInstanceOf(InvalidCursorError);

    const second = await store.goals.listByProject(project.id, { limit: 2, cursor: first.cursor });
    expect(second.items).toHaveLength(2);
  });

  it('refuses a page size outside 1..100', async () => {
    await expect(store.projects.list({ limit: 0 })).rejects.toBeInstanceOf(StoreInputError);
    await expect(store.projects.list({ limit: 101 })).rejects.toBeInstanceOf(StoreInputError);
  });
});

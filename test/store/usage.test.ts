import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../lib/domain/ids';
import { createStore, StoreInputError, type Store } from '../../lib/store/index';
import { startDynalite, type LocalDynamo } from '../support/dynalite';

let db: LocalDynamo;
let store: Store;

beforeAll(async () => {
  db = await startDynalite();
  store = createStore(db.store);
});
afterAll(() => db.stop());

describe('usage counters', () => {
  it('sums increments from 16 concurrent writers exactly', async () => {
    const projectId = newId('project');
    const model = 'bedrock:anthropic.claude-3-haiku';
    await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        store.usage.addUsage(projectId, '2030-03-01', model, {
          inputTokens: 1000 + i,
          outputTokens: 10,
          cacheReadTokens: 5,
          cacheWriteTokens: 1,
          usd: 0.0125,
          calls: 1,
        }),
      ),
    );
    const { records, total } = await store.usage.getUsage(projectId, '2030-03-01', '2030-03-01');
    expect(records).toHaveLength(1);
    expect(total).toEqual({
      inputTokens: 16 * 1000 + 120,
      outputTokens: 160,
      cacheReadTokens: 80,
      cacheWriteTokens: 16,
      // DynamoDB adds decimals exactly; 16 × 0.0125 = 0.2 with no float drift.
      usd: 0.2,
      calls: 16,
    });
  });

  it('aggregates a day range by day and by model, and leaves other days out', async () => {
    const projectId = newId('project');
    await store.usage.addUsage(projectId, '2030-02-28', 'a', { usd: 1, calls: 1 });
    await store.usage.addUsage(projectId, '2030-03-01', 'a', { usd: 2, calls: 1, inputTokens: 7 });
    await store.usage.addUsage(projectId, '2030-03-01', 'b', { usd: 3, calls: 2 });
    await store.usage.addUsage(projectId, '2030-03-02', 'b', { usd: 4, calls: 1 });
    await store.usage.addUsage(projectId, '2030-03-03', 'a', { usd: 100, calls: 1 });

    const summary = await store.usage.getUsage(projectId, '2030-02-28', '2030-03-02');
    expect(summary.records.map((r) => `${r.day}/${r.model}`)).toEqual(['2030-02-28/a', '2030-03-01/a', '2030-03-01/b', '2030-03-02/b']);
    expect(summary.total.usd).toBe(10);
    expect(summary.byDay['2030-03-01']).toMatchObject({ usd: 5, calls: 3, inputTokens: 7, outputTokens: 0 });
    expect(summary.byModel).toMatchObject({ a: { usd: 3, calls: 2 }, b: { usd: 7, calls: 3 } });
  });

  it('rejects bad days and reversed ranges', async () => {
    const projectId = newId('project');
    await expect(store.usage.addUsage(projectId, '2030-02-30', 'a', { calls: 1 })).rejects.toThrow(/day does not exist/);
    await expect(store.usage.getUsage(projectId, '2030-03-02', '2030-03-01')).rejects.toBeInstanceOf(StoreInputError);
    await expect(store.usage.addUsage(projectId, '2030-03-01', 'a', { usd: -1 })).rejects.toThrow();
  });
});

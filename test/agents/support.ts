// Shared set-up for agent tests: ids, tasks and a replay-backed model gateway.
import { newId } from '../../lib/domain/index';
import type { z } from 'zod';
import { createModelGateway, type ModelGateway, type ReplayScriptSchema } from '../../lib/models/index';
import type { AgentTaskInput } from '../../lib/agents/index';

export interface TestIds {
  projectId: string;
  goalId: string;
  taskId: string;
}

export function newIds(): TestIds {
  return { projectId: newId('project'), goalId: newId('goal'), taskId: newId('task') };
}

export function makeTask(ids: TestIds, overrides: Partial<AgentTaskInput> = {}): AgentTaskInput {
  return {
    id: ids.taskId,
    goalId: ids.goalId,
    projectId: ids.projectId,
    kind: 'fix',
    title: 'Fix add',
    spec: 'add() in src/math.js subtracts instead of adding. Make it add.',
    acceptanceCriteria: ['node --test passes'],
    ...overrides,
  };
}

/** A gateway answering from an in-memory replay script (no file, no network, free). */
export function replayGateway(script: z.input<typeof ReplayScriptSchema>, options: { onEvent?: Parameters<typeof createModelGateway>[0]['onEvent'] } = {}): ModelGateway {
  return createModelGateway({
    policy: ['replay:inline-script.json'],
    providers: { replay: { script } },
    onEvent: options.onEvent,
  });
}

export const toolUse = (name: string, input: Record<string, unknown>) => ({ type: 'toolUse' as const, name, input });

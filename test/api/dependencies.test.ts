import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiDependencies, resetApiDependencies, setApiDependencies } from '../../lib/api/dependencies';
import { PortNotDeclaredError, SfnPipelineStarter, SfnTaskCallbacks } from '../../lib/ports/aws/index';
import { declareCellPorts } from '../../lib/runtime';
import { createStore, StoreConfigError } from '../../lib/store/index';
import { RecordingCallbacks, RecordingPipeline } from './support';

afterEach(() => {
  vi.unstubAllEnvs();
  resetApiDependencies();
});

describe('API dependencies', () => {
  it('builds the store and the declared AWS ports from the Lambda environment once', async () => {
    // What functions/api/decide-approval.ts and cancel-goal.ts declare between them.
    declareCellPorts({
      pipeline: () => import('../../lib/ports/aws/pipeline-starter'),
      callbacks: () => import('../../lib/ports/aws/task-callbacks'),
    });
    vi.stubEnv('TABLE_NAME', 'cahoots-acme-state');
    vi.stubEnv('STATE_MACHINE_ARN', 'arn:aws:states:eu-west-1:123456789012:stateMachine:cahoots-acme-goal-pipeline');
    const first = await apiDependencies();
    expect(first.store.config.tableName).toBe('cahoots-acme-state');
    expect(first.pipeline).toBeInstanceOf(SfnPipelineStarter);
    expect(first.callbacks).toBeInstanceOf(SfnTaskCallbacks);
    expect(await apiDependencies()).toBe(first);
    // The repository host was not declared, so its adapter (and git) is not part of this function.
    expect(() => first.repositories?.supportsPullRequests({} as never)).toThrow(PortNotDeclaredError);
    expect(() => first.repositories?.checkAccess({} as never)).toThrow(/repositories port is not part of this function/);
  });

  it('reports a missing table name, and tries again on the next request', async () => {
    vi.stubEnv('TABLE_NAME', '');
    await expect(apiDependencies()).rejects.toBeInstanceOf(StoreConfigError);
    vi.stubEnv('TABLE_NAME', 'cahoots-acme-state');
    expect((await apiDependencies()).store.config.tableName).toBe('cahoots-acme-state');
  });

  it('uses what the local runtime injects instead of the environment', async () => {
    vi.stubEnv('TABLE_NAME', '');
    const injected = { store: createStore({ client: {} as never, tableName: 'local' }), pipeline: new RecordingPipeline(), callbacks: new RecordingCallbacks() };
    setApiDependencies(injected);
    expect(await apiDependencies()).toBe(injected);
  });
});

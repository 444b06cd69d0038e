// The one error convention: errors are classified by class and by their own fields, and the names
// Step Functions matches come from `stepFunctionsError`, whatever an error's `name` says.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AgentFailedError, AgentStuckError, BudgetExceededError } from '../../lib/agents/errors';
import { APPROVAL_REJECTED_ERROR } from '../../lib/api/approvals';
import { asStepFunctionsFailure, CahootsError, isPermanent, stepFunctionsErrorOf } from '../../lib/domain/errors';
import { createLambdaContext } from '../../lib/local/lambda-context';
import { ModelProviderError } from '../../lib/models/errors';
import { CheckpointMissingError, InvalidStepInputError, NoModelConfiguredError } from '../../lib/pipeline/errors';
import { RepositoryUnreachableError, UnsupportedRepositoryError } from '../../lib/ports/repository/errors';
import { pipelineStepHandler } from '../../lib/pipeline/handler';
import { AppendContentionError, ConcurrencyConflictError, NotFoundError } from '../../lib/store/errors';
import { MergeConflictError, RefLockedError } from '../../lib/workspace/errors';

const conflict = () => new ConcurrencyConflictError('goal', 'g1', 3, 4);

describe('isPermanent', () => {
  it('trusts the class and its permanent flag, never the name', () => {
    expect(isPermanent(new UnsupportedRepositoryError('ssh:// repositories are not supported'))).toBe(true);
    // An error of someone else that merely carries one of our Step Functions names is not ours.
    const lookalike = Object.assign(new Error('not ours'), { name: 'Repository.NotSupported' });
    expect(isPermanent(lookalike)).toBe(false);
    expect(isPermanent(new Error('unknown'))).toBe(false);
  });

  it('tells lost races and locks from failures that stay', () => {
    expect(isPermanent(conflict())).toBe(false);
    expect(isPermanent(new AppendContentionError('GOAL#g1', 5))).toBe(false);
    expect(isPermanent(new RefLockedError('refs/heads/main', '/repo/.git/refs/heads/main.lock'))).toBe(false);
    expect(isPermanent(new NotFoundError('goal', 'g1'))).toBe(true);
    expect(isPermanent(new MergeConflictError('cahoots/G', 'cahoots/G/A', ['a.ts'], 'content'))).toBe(true);
    expect(isPermanent(new NoModelConfiguredError('developer'))).toBe(true);
  });

  it('follows a model provider error retryable flag', () => {
    const throttled = new ModelProviderError('slow down', { spec: 'bedrock:m', kind: 'throttled', retryable: true });
    const denied = new ModelProviderError('no access', { spec: 'bedrock:m', kind: 'access_denied', retryable: false });
    expect([isPermanent(throttled), isPermanent(denied)]).toEqual([false, true]);
  });

  it('counts data that fails its schema as permanent', () => {
    const parsed = z.object({ id: z.string() }).safeParse({ id: 1 });
    expect(parsed.success).toBe(false);
    expect(isPermanent(parsed.error)).toBe(true);
  });
});

describe('Step Functions error names', () => {
  it('keeps different failures apart by class even where the state machine sees one name', () => {
    const missing = new CheckpointMissingError('checkpoints/t1.json');
    const failed = new AgentFailedError('turn-limit', 'ran out of turns');
    expect([missing.stepFunctionsError, failed.stepFunctionsError]).toEqual(['Agent.Failed', 'Agent.Failed']);
    expect(missing).not.toBeInstanceOf(AgentFailedError);
    expect([missing.name, failed.name]).toEqual(['CheckpointMissingError', 'AgentFailedError']);
    // No model for the role is not retried on a stronger tier: the policy has none there either.
    expect(new NoModelConfiguredError('qa').stepFunctionsError).toBe('Pipeline.NoModelConfigured');
  });

  it('gives a failed Lambda step the name the state machine matches, keeping the error itself', () => {
    const error = conflict();
    expect(asStepFunctionsFailure(error)).toBe(error);
    expect(error.name).toBe('Store.Conflict');
    expect(error).toBeInstanceOf(ConcurrencyConflictError);
    const foreign = new TypeError('boom');
    expect((asStepFunctionsFailure(foreign) as Error).name).toBe('TypeError');
    expect(stepFunctionsErrorOf(foreign)).toBe('TypeError');
    expect(stepFunctionsErrorOf('a string')).toBe('Error');
  });

  it('reports a pipeline step failure under its Step Functions name', async () => {
    const handler = pipelineStepHandler('SelectReadyTasks', z.object({ goalId: z.string() }), async () => 'unreachable');
    const failure = await handler({ goalId: 42 }, createLambdaContext({ functionName: 'select-ready-tasks' })).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(InvalidStepInputError);
    expect(failure).toMatchObject({ name: 'Pipeline.InvalidInput', message: expect.stringContaining('goalId') });
  });

  it('produces every error name the goal pipeline retries or catches', () => {
    const definition = readFileSync(new URL('../../statemachines/goal-pipeline.asl.json', import.meta.url), 'utf8');
    const matched = new Set<string>();
    JSON.parse(definition, (key, value: unknown) => {
      if (key === 'ErrorEquals') for (const name of value as string[]) matched.add(name);
      return value;
    });
    const ours = [...matched].filter((name) => !name.startsWith('States.') && !name.startsWith('Lambda.'));
    const produced = new Set<string>([
      conflict().stepFunctionsError,
      new AppendContentionError('GOAL#g1', 5).stepFunctionsError,
      new AgentFailedError('invalid-finish', 'x').stepFunctionsError,
      new AgentStuckError('read_file', '{}', 3).stepFunctionsError,
      new BudgetExceededError(1, 0, 1).stepFunctionsError,
      new RepositoryUnreachableError('the git host did not answer').stepFunctionsError,
      APPROVAL_REJECTED_ERROR,
    ]);
    expect(ours.length).toBeGreaterThan(0);
    expect(ours.filter((name) => !produced.has(name))).toEqual([]);
  });

  it('derives every named error from the one base', () => {
    for (const error of [conflict(), new MergeConflictError('g', 't', [], 'content'), new BudgetExceededError(1, 0, 1), new NoModelConfiguredError('ux')]) {
      expect(error).toBeInstanceOf(CahootsError);
      expect(error.code).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(error.stepFunctionsError).toMatch(/^[A-Z][A-Za-z]+\.[A-Z][A-Za-z]+$/);
    }
  });
});

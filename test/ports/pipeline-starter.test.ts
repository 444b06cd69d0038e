import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { executionArnFor, SfnPipelineStarter } from '../../lib/ports/aws/pipeline-starter';
import { executionNameForGoal, GoalExecutionConflictError } from '../../lib/ports/service-rules';

const sfn = mockClient(SFNClient);
// Tests share a worker: the next file must meet the real client, not this mock.
afterAll(() => {
  sfn.restore();
});
const stateMachineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:GoalPipeline';
const starter = new SfnPipelineStarter({ stateMachineArn });
const alreadyExists = () => new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} });

afterEach(() => sfn.reset());

describe('SfnPipelineStarter.startGoal', () => {
  it('names the execution after the goal so a second start reaches the same execution', async () => {
    sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
      executionArn: executionArnFor(stateMachineArn, input.name),
      startDate: new Date(),
    }));
    const first = await starter.startGoal({ goalId: '01HZX', projectId: 'p1' });
    const second = await starter.startGoal({ goalId: '01HZX', projectId: 'p1' });
    expect(second.executionId).toBe(first.executionId);
    expect(first.executionId).toBe('arn:aws:states:us-east-1:123456789012:execution:GoalPipeline:goal-01HZX');
    const sent = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(JSON.parse(sent?.input ?? '')).toEqual({ goalId: '01HZX', projectId: 'p1' });
  });

  it('treats ExecutionAlreadyExists with the same input as success', async () => {
    const arn = executionArnFor(stateMachineArn, 'goal-g1');
    sfn.on(StartExecutionCommand).rejects(alreadyExists());
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: arn,
      status: 'SUCCEEDED',
      // Same input, keys in another order: still the same start.
      input: JSON.stringify({ projectId: 'p1', goalId: 'g1' }),
      stateMachineArn,
      startDate: new Date(),
    });
    await expect(starter.startGoal({ goalId: 'g1', projectId: 'p1' })).resolves.toEqual({ executionId: arn });
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]?.args[0].input.executionArn).toBe(arn);
  });

  it('refuses when the execution name is taken by a different input', async () => {
    sfn.on(StartExecutionCommand).rejects(alreadyExists());
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: executionArnFor(stateMachineArn, 'goal-g1'),
      status: 'RUNNING',
      input: JSON.stringify({ goalId: 'g1', projectId: 'other' }),
      stateMachineArn,
      startDate: new Date(),
    });
    await expect(starter.startGoal({ goalId: 'g1', projectId: 'p1' })).rejects.toBeInstanceOf(GoalExecutionConflictError);
  });

  it('passes other errors through', async () => {
    sfn.on(StartExecutionCommand).rejects(new Error('AccessDenied'));
    await expect(starter.startGoal({ goalId: 'g1', projectId: 'p1' })).rejects.toThrow('AccessDenied');
  });
});

describe('SfnPipelineStarter.stopGoal', () => {
  const arn = executionArnFor(stateMachineArn, 'goal-g1');

  it('stops with a truncated cause', async () => {
    sfn.on(StopExecutionCommand).resolves({ stopDate: new Date() });
    await starter.stopGoal(arn, 'x'.repeat(40_000));
    const sent = sfn.commandCalls(StopExecutionCommand)[0]?.args[0].input;
    expect(sent?.cause?.length).toBe(32_768);
    expect(sent?.error).toBe('Goal.Stopped');
  });

  it('ignores an execution that already ended', async () => {
    sfn.on(StopExecutionCommand).rejects(new Error('Execution is not running'));
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: arn, status: 'SUCCEEDED', stateMachineArn, startDate: new Date() });
    await expect(starter.stopGoal(arn, 'user cancelled')).resolves.toBeUndefined();
  });

  it('rethrows when the execution is still running or unknown', async () => {
    sfn.on(StopExecutionCommand).rejectsOnce(new Error('Throttled'));
    sfn.on(DescribeExecutionCommand).resolvesOnce({ executionArn: arn, status: 'RUNNING', stateMachineArn, startDate: new Date() });
    await expect(starter.stopGoal(arn, 'c')).rejects.toThrow('Throttled');

    const missing = new ExecutionDoesNotExist({ message: 'no such execution', $metadata: {} });
    sfn.on(StopExecutionCommand).rejects(missing);
    sfn.on(DescribeExecutionCommand).rejects(missing);
    await expect(starter.stopGoal(arn, 'c')).rejects.toBe(missing);
  });
});

describe('executionNameForGoal', () => {
  it('keeps simple ids readable and makes others safe, distinct and short enough', () => {
    expect(executionNameForGoal('01J9ZQ')).toBe('goal-01J9ZQ');
    const odd = executionNameForGoal('a b/c');
    expect(odd).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(odd).not.toBe(executionNameForGoal('a_b_c'));
    expect(executionNameForGoal('x'.repeat(200)).length).toBeLessThanOrEqual(80);
  });
});

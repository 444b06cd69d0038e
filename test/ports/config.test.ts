import { describe, expect, it } from 'vitest';
import { AwsPortsConfigError, createAwsPorts, PortNotConfiguredError, readAwsPortsConfig } from '../../lib/ports/aws';

describe('AWS ports configuration', () => {
  it('reads the documented variables', () => {
    const config = readAwsPortsConfig({
      STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:GoalPipeline',
      EVENT_BUS_NAME: 'cahoots-acme',
      ARTIFACTS_BUCKET: 'acme-cahoots-artifacts',
      SECRETS_PREFIX: 'cahoots/acme/',
      SECRETS_CACHE_TTL_SECONDS: '60',
    });
    expect(config).toMatchObject({ eventBusName: 'cahoots-acme', secretsCacheTtlSeconds: 60, artifactsPrefix: '' });
  });

  it('names the variable that is wrong', () => {
    expect(() => readAwsPortsConfig({ STATE_MACHINE_ARN: 'GoalPipeline', ARTIFACTS_BUCKET: 'Bad_Bucket' })).toThrow(
      AwsPortsConfigError,
    );
    try {
      readAwsPortsConfig({ STATE_MACHINE_ARN: 'GoalPipeline', ARTIFACTS_BUCKET: 'Bad_Bucket' });
    } catch (error) {
      expect((error as Error).message).toMatch(/STATE_MACHINE_ARN/);
      expect((error as Error).message).toMatch(/ARTIFACTS_BUCKET/);
    }
  });

  it('builds every port, and a port without its variable fails on use naming the variable', async () => {
    const ports = createAwsPorts(readAwsPortsConfig({}));
    expect(Object.keys(ports).sort()).toEqual(['alarms', 'artifacts', 'callbacks', 'commands', 'detection', 'events', 'pipeline', 'queue', 'repositories', 'schedules', 'secrets']);
    await expect(ports.pipeline.startGoal({ goalId: 'g', projectId: 'p' })).rejects.toBeInstanceOf(PortNotConfiguredError);
    await expect(ports.events.publish([])).rejects.toThrow(/EVENT_BUS_NAME/);
    await expect(ports.artifacts.get('k')).rejects.toThrow(/ARTIFACTS_BUCKET/);
    // Without a sandbox function a cell runs no commands, rather than running them beside the agent's credentials.
    await expect(ports.commands.run({ workingCopy: '.', argv: ['npm', 'test'], allowedCommands: ['npm test'], timeoutMs: 1_000 })).rejects.toThrow(/SANDBOX_FUNCTION_NAME/);
    await expect(ports.schedules.delete('prj_x')).rejects.toThrow(/SCHEDULE_GROUP_NAME/);
  });

  it('reads the sandbox function name, and refuses one that is not a function name or ARN', () => {
    expect(readAwsPortsConfig({ SANDBOX_FUNCTION_NAME: 'cahoots-acme-sandbox' }).sandboxFunctionName).toBe('cahoots-acme-sandbox');
    expect(() => readAwsPortsConfig({ SANDBOX_FUNCTION_NAME: 'not a function' })).toThrow(/SANDBOX_FUNCTION_NAME must be a Lambda function name or ARN/);
  });
});

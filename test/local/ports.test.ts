import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type BusEnvelope, LocalEventBus } from '../../lib/local/event-bus';
import { LocalDetectionScheduler } from '../../lib/local/detection-scheduler';
import { createLocalPorts } from '../../lib/local/ports';
import { LocalQueues } from '../../lib/local/queues';
import { LocalDetectionStarter } from '../../lib/local/detection-starter';
import { LocalStateMachineRunner } from '../../lib/local/state-machine-runner';
import { AlarmsUnavailableError } from '../../lib/ports/index';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('createLocalPorts', () => {
  it('wires every port to the local runtime parts, the callbacks to the runner’s token registry', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cahoots-ports-'));
    dirs.push(dir);
    const queues = new LocalQueues();
    const queueUrl = queues.createQueue('planner');
    const bus = new LocalEventBus();
    const seen: BusEnvelope[] = [];
    bus.putRule('all', { source: ['cahoots'] }, (event) => {
      seen.push(event);
    });
    const runner = new LocalStateMachineRunner({
      definition: {
        StartAt: 'Plan',
        States: {
          Plan: {
            Type: 'Task',
            Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
            Parameters: { QueueUrl: queueUrl, MessageBody: { 'taskToken.$': '$$.Task.Token', 'goalId.$': '$.goalId' } },
            End: true,
          },
        },
      },
      queues,
    });
    const detectionRunner = new LocalStateMachineRunner({
      definition: { StartAt: 'Done', States: { Done: { Type: 'Succeed' } } },
      stateMachineName: 'detect-work',
    });
    const ports = createLocalPorts({
      runner,
      detection: new LocalDetectionStarter(detectionRunner),
      queues,
      bus,
      artifactsDir: join(dir, 'artifacts'),
      secrets: { env: { CAHOOTS_SECRET_GITHUB_TOKEN: 'ghp_local' } },
      workspaceRoot: join(dir, 'workspaces'),
      schedules: new LocalDetectionScheduler({ start: async () => undefined }),
    });

    const { executionId } = await ports.pipeline.startGoal({ goalId: 'g1', projectId: 'p1' });
    const [message] = await queues.receive(queueUrl, { waitTimeSeconds: 1 });
    const body = JSON.parse(message?.body ?? '{}') as { taskToken: string; goalId: string };
    expect(body.goalId).toBe('g1');
    await ports.callbacks.succeed(body.taskToken, { plan: 'ok' });
    await ports.events.publish([{ eventId: 'e1', type: 'Goal.Planned', projectId: 'p1', goalId: 'g1' }]);
    await ports.queue.send(queueUrl, { next: true });
    await ports.artifacts.put('goals/g1/plan.json', '{}');
    await bus.idle();

    expect(runner.describeExecution(executionId)?.status).toBe('SUCCEEDED');
    const detection = await ports.detection.startDetection({ projectId: 'p1', trigger: 'manual' });
    expect(detection.executionId).toMatch(/:execution:detect-work:manual-[0-9A-Z]{26}$/);
    expect((await detectionRunner.waitForExecution(detection.executionId)).status).toBe('SUCCEEDED');
    expect(seen.map((e) => e['detail-type'])).toEqual(['Goal.Planned']);
    expect(queues.stats(queueUrl).visible).toBe(1);
    expect(Buffer.from((await ports.artifacts.get('goals/g1/plan.json')) ?? []).toString()).toBe('{}');
    expect(await ports.secrets.get('github/token')).toBe('ghp_local');
    // No AWS account locally: the alarm detector is told so and skips itself.
    await expect(ports.alarms.alarmsInAlarm(['shop-api-5xx'])).rejects.toBeInstanceOf(AlarmsUnavailableError);
  });
});

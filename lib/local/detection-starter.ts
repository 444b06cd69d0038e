// DetectionStarter over the local runner of statemachines/detect-work.asl.json, with the AWS
// adapter's naming: every run is a new execution named `<trigger>-<ULID>`.
import { newUlid } from '../domain/ids';
import type { DetectionStarter } from '../ports/index';
import type { LocalStateMachineRunner } from './state-machine-runner';

export class LocalDetectionStarter implements DetectionStarter {
  constructor(private readonly runner: LocalStateMachineRunner) {}

  async startDetection(input: { projectId: string; trigger: 'schedule' | 'manual' }): Promise<{ executionId: string }> {
    const started = this.runner.start({ projectId: input.projectId, trigger: input.trigger }, { executionName: `${input.trigger}-${newUlid()}` });
    return { executionId: started.executionId };
  }
}

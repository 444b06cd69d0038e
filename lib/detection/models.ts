// Models for detection: the analyst's gateway over one role's models of the project, its calls
// added to the project's usage and the token and cost metrics (role `analyst`) like an agent's (a
// detection run has no goal), and the project's budget standings it must stay within.
import { modelPolicyOf, type Project } from '../domain/project';
import { emitModelCallMetrics } from '../pipeline/agent-telemetry';
import { projectBudgetStandings } from '../pipeline/budget';
import { recordModelUsage, runtimeModelGateway } from '../pipeline/model-gateway';
import type { Runtime } from '../runtime';
import type { DetectorModels } from './types';

export function detectorModels(runtime: Runtime, project: Project, clock: () => Date = () => new Date()): DetectorModels {
  return {
    policyFor: (role) => modelPolicyOf(project, role, runtime.config.defaultModels),
    gateway: (policy) =>
      runtimeModelGateway(runtime, policy, async (event) => {
        if (event.type !== 'Model.Called') return;
        await recordModelUsage(runtime, project.id, event.at, event.data);
        emitModelCallMetrics('analyst', project.id, event.data);
      }),
    projectBudgets: () => projectBudgetStandings(runtime, project, clock()),
  };
}

// The goal pipeline's definition and the Lambda steps it names, in one place: CDK deploys each
// step as a function and substitutes its ARN; the local runtime substitutes local ARNs and calls
// the same handler in-process. Both read the same statemachines/goal-pipeline.asl.json.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AGENT_ROLES, type AgentRole } from '../domain/settings';

export const GOAL_PIPELINE_NAME = 'goal-pipeline';

/** statemachines/goal-pipeline.asl.json, resolved from this module so it works from any cwd. */
export const GOAL_PIPELINE_DEFINITION_PATH = fileURLToPath(new URL('../../statemachines/goal-pipeline.asl.json', import.meta.url));

export function readGoalPipelineDefinition(): string {
  return readFileSync(GOAL_PIPELINE_DEFINITION_PATH, 'utf8');
}

/**
 * Each Lambda step: its name in the definition (`${<name>FunctionArn}`) and its entry file under
 * functions/pipeline/.
 */
export const PIPELINE_STEPS = {
  StartGoal: 'start-goal',
  DecidePlanApproval: 'decide-plan-approval',
  RequestApproval: 'request-approval',
  SelectReadyTasks: 'select-ready-tasks',
  RecordTaskFailure: 'record-task-failure',
  OpenQualityGate: 'open-quality-gate',
  EvaluateQualityGate: 'evaluate-quality-gate',
  Deliver: 'deliver',
  AssessGoal: 'assess-goal',
  EndGoal: 'end-goal',
} as const;
export type PipelineStepName = keyof typeof PIPELINE_STEPS;

export const isPipelineStepName = (name: string): name is PipelineStepName => Object.hasOwn(PIPELINE_STEPS, name);

export const functionArnSubstitution = (step: PipelineStepName): string => `${step}FunctionArn`;

/** The definition's substitutions, given each step's function ARN. */
export function pipelineSubstitutions(functionArnOf: (step: PipelineStepName) => string): Record<string, string> {
  const substitutions: Record<string, string> = {};
  for (const step of Object.keys(PIPELINE_STEPS) as PipelineStepName[]) substitutions[functionArnSubstitution(step)] = functionArnOf(step);
  return substitutions;
}

/** The agent roles whose queues the pipeline dispatches to. */
export const DISPATCHED_ROLES: readonly AgentRole[] = AGENT_ROLES;

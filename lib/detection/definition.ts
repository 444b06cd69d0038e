// The DetectWork workflow's definition and the Lambda steps it names, in one place: CDK deploys
// each step as a function and substitutes its ARN; the local runtime substitutes local ARNs and
// calls the same handlers in-process. Both read statemachines/detect-work.asl.json.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const DETECT_WORK_NAME = 'detect-work';

export const DETECT_WORK_DEFINITION_PATH = fileURLToPath(new URL('../../statemachines/detect-work.asl.json', import.meta.url));

export function readDetectWorkDefinition(): string {
  return readFileSync(DETECT_WORK_DEFINITION_PATH, 'utf8');
}

/** Each Lambda step: its name in the definition (`${<name>FunctionArn}`) and its entry file under functions/detection/. */
export const DETECT_WORK_STEPS = {
  PrepareDetection: 'prepare-detection',
  RunDetector: 'run-detector',
  MergeFindings: 'merge-findings',
  DecideGoals: 'decide-goals',
  RecordDetection: 'record-detection',
} as const;
export type DetectWorkStepName = keyof typeof DETECT_WORK_STEPS;

/** The definition's substitutions, given each step's function ARN. */
export function detectWorkSubstitutions(functionArnOf: (step: DetectWorkStepName) => string): Record<string, string> {
  const substitutions: Record<string, string> = {};
  for (const step of Object.keys(DETECT_WORK_STEPS) as DetectWorkStepName[]) substitutions[`${step}FunctionArn`] = functionArnOf(step);
  return substitutions;
}

// The team's roles, each assembled from its parts: the system prompt (prompts.ts), the tools it is
// offered (permissions.ts) and the schema its `finish` call must satisfy (finish-schemas.ts).
import type { AgentRole } from '../domain/index';
import { FINISH_DESCRIPTIONS, finishInputSchema, validateFinish, type FinishPayload, type FinishValidation } from './finish-schemas';
import { DEFAULT_ROLE_SETTINGS, toolPermissions, type RoleSettings } from './permissions';
import { systemPrompt } from './prompts';

export interface RoleDefinition<R extends AgentRole = AgentRole> {
  role: R;
  systemPrompt(settings: RoleSettings): string;
  /** Workspace tool names the role gets (before the finish tool). */
  toolNames(settings: RoleSettings): readonly string[];
  finishDescription: string;
  /** JSON schema of the finish tool's input. */
  finishInputSchema(settings: RoleSettings): Record<string, unknown>;
  validateFinish(input: unknown, settings: RoleSettings): FinishValidation<FinishPayload<R>>;
}

function defineRole<R extends AgentRole>(role: R): RoleDefinition<R> {
  return {
    role,
    systemPrompt: (settings) => systemPrompt(role, settings, toolPermissions(role, settings)),
    toolNames: (settings) => toolPermissions(role, settings).toolNames,
    finishDescription: FINISH_DESCRIPTIONS[role],
    finishInputSchema: (settings) => finishInputSchema(role, settings),
    validateFinish: (input, settings) => validateFinish(role, input, settings),
  };
}

export const ROLE_DEFINITIONS: { readonly [R in AgentRole]: RoleDefinition<R> } = {
  planner: defineRole('planner'),
  developer: defineRole('developer'),
  ux: defineRole('ux'),
  qa: defineRole('qa'),
  reviewer: defineRole('reviewer'),
};

export function roleDefinition<R extends AgentRole>(role: R): RoleDefinition<R> {
  return ROLE_DEFINITIONS[role] as RoleDefinition<R>;
}

/** Validates a finish payload for a role, e.g. when a payload arrives from somewhere other than the loop. */
export function validateFinishPayload<R extends AgentRole>(
  role: R,
  input: unknown,
  settings: Partial<RoleSettings> = {},
): FinishValidation<FinishPayload<R>> {
  return validateFinish(role, input, { ...DEFAULT_ROLE_SETTINGS, ...settings });
}

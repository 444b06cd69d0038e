// Primitive settings shared by customer config (infra), projects (store/API) and agents.
// Everything here is a zod schema; types come from z.infer.
import * as z from 'zod';

export const AGENT_ROLES = ['planner', 'developer', 'ux', 'qa', 'reviewer'] as const;
export const AgentRoleSchema = z.enum(AGENT_ROLES);
export type AgentRole = z.infer<typeof AgentRoleSchema>;

/**
 * A model named the same way everywhere (CLI, config, CAHOOTS_MODEL):
 * `bedrock:<modelId>`, `openai:<model>@<baseUrl>` or `replay:<path>`.
 * This checks the shape only; lib/models parses a spec into a provider.
 */
export const ModelSpecSchema = z
  .string()
  .min(3)
  .max(2048)
  .regex(/^(bedrock:[^\s]+|openai:[^\s@]+@https?:\/\/[^\s]+|replay:[^\s]+)$/, {
    message: 'model spec must be bedrock:<modelId>, openai:<model>@<baseUrl> or replay:<path>',
  });
export type ModelSpec = z.infer<typeof ModelSpecSchema>;

/** Per role, an ordered list of model specs from cheapest to strongest. */
export const ModelPolicySchema = z.partialRecord(AgentRoleSchema, z.array(ModelSpecSchema).min(1).max(8));
export type ModelPolicy = z.infer<typeof ModelPolicySchema>;

const usd = z.number().nonnegative().max(1_000_000);

/** Spending limits in USD. A limit that is absent is not enforced. */
export const BudgetsSchema = z.object({
  perGoalUsd: usd.optional(),
  perProjectDailyUsd: usd.optional(),
  perProjectMonthlyUsd: usd.optional(),
});
export type Budgets = z.infer<typeof BudgetsSchema>;

/** 1 assisted · 2 semi-autonomous · 3 strategic · 4 autonomous · 5 evolutionary. */
export const AutonomyLevelSchema = z.number().int().min(1).max(5);
export type AutonomyLevel = z.infer<typeof AutonomyLevelSchema>;

/**
 * A deployment's settings for new projects (the customer file's `projectDefaults`): a project
 * created through the API takes these wherever its request leaves them out.
 */
export const ProjectDefaultsSchema = z.strictObject({
  autonomyLevel: AutonomyLevelSchema,
  budgets: BudgetsSchema,
  modelPolicy: ModelPolicySchema,
});
export type ProjectDefaults = z.infer<typeof ProjectDefaultsSchema>;

/**
 * The per-goal spend cap of a project created through the API when neither the request nor the
 * deployment's project defaults give one: no project starts without a limit on what a goal may spend.
 */
export const FALLBACK_PER_GOAL_BUDGET_USD = 10;

export const PRIORITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export const PrioritySchema = z.enum(PRIORITIES);
export type Priority = z.infer<typeof PrioritySchema>;

/** How many agents of each role a project's team has; a role with 0 is not staffed. */
export const TeamCompositionSchema = z.partialRecord(AgentRoleSchema, z.number().int().min(0).max(20));
export type TeamComposition = z.infer<typeof TeamCompositionSchema>;

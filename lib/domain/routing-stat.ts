// Learned routing statistics: how each model has done for one role × task kind in a project. The
// store keeps them and the router (lib/models/routing.ts) chooses from them, so their shape lives
// here, below both.
import * as z from 'zod';
import { AgentRoleSchema } from './settings';

export const RoutingStatSchema = z.object({
  role: AgentRoleSchema,
  /** Task kind (feature, fix, …). */
  kind: z.string().min(1).max(50),
  /** Model spec, exactly as in the policy. */
  model: z.string().min(1).max(500),
  attempts: z.number().int().min(0),
  successes: z.number().int().min(0),
  /** Total USD spent on these attempts, successful or not. */
  costUsd: z.number().nonnegative(),
});
export type RoutingStat = z.infer<typeof RoutingStatSchema>;

/** One finished attempt, as the agent worker counts it. */
export interface RoutingObservation {
  role: RoutingStat['role'];
  kind: string;
  /**
   * The model the attempt started on (policy[startTier]). A run that fell back to a stronger
   * model still counts against its start model, because the start model is what the router picks.
   */
  model: string;
  succeeded: boolean;
  costUsd: number;
}

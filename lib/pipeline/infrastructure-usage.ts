// Counts what each pipeline step and agent worker invocation consumes besides tokens and records it
// against its goal, priced (lib/domain/infrastructure-cost.ts): Lambda GB-seconds from the measured
// duration and the function's memory, DynamoDB request units as the table reports them, sandbox
// command time, queue requests, bus events, and state transitions estimated from the definition.
import type { CommandRunner } from '../domain/commands';
import { dayOf } from '../domain/common';
import {
  FUNCTION_MEMORY_MB,
  gbSeconds,
  infrastructurePrices,
  priceInfrastructure,
  type InfrastructureQuantities,
} from '../domain/infrastructure-cost';
import type { PipelineStepName } from './definition';
import type { Goal } from '../domain/goal';
import { logger, metrics } from '../powertools';
import type { Runtime } from '../runtime';
import { currentInvocationMeter, meterInvocationUsage, newInvocationMeter, WRITE_UNITS_PER_RECORDING, type InvocationMeter } from '../store/index';

/**
 * State transitions each step's invocation stands for: its own Task state plus the control states
 * (Choice, Map, Pass, Succeed, Fail) the definition passes through before the next Task state — on
 * the longest such path. test/pipeline/infrastructure-usage.test.ts derives these from
 * statemachines/goal-pipeline.asl.json and fails when they drift.
 */
export const STATE_TRANSITIONS_PER_STEP: Readonly<Record<PipelineStepName, number>> = Object.freeze({
  StartGoal: 1,
  DecidePlanApproval: 2,
  RequestApproval: 1,
  SelectReadyTasks: 3,
  RecordTaskFailure: 1,
  OpenQualityGate: 2,
  EvaluateQualityGate: 3,
  Deliver: 1,
  AssessGoal: 2,
  EndGoal: 2,
});

/** An agent dispatch's queue requests: the state machine's send, the worker's receive and delete. */
export const SQS_REQUESTS_PER_DISPATCH = 3;

export interface MeteredInvocation {
  goalId: string;
  /** The function's memory when not in Lambda (where AWS_LAMBDA_FUNCTION_MEMORY_SIZE says). */
  memoryMb: number;
  stateTransitions: number;
  sqsRequests?: number;
}

/** The metering of a pipeline step's invocation. */
export function stepInvocation(step: PipelineStepName, goalId: string): MeteredInvocation {
  return {
    goalId,
    memoryMb: step === 'Deliver' ? FUNCTION_MEMORY_MB.deliverStep : FUNCTION_MEMORY_MB.pipelineStep,
    stateTransitions: STATE_TRANSITIONS_PER_STEP[step],
  };
}

/** The metering of an agent worker's invocation; a continuation was not dispatched by the state machine. */
export function agentInvocation(goalId: string, continuation: boolean): MeteredInvocation {
  return { goalId, memoryMb: FUNCTION_MEMORY_MB.agentWorker, stateTransitions: continuation ? 0 : 1, sqsRequests: SQS_REQUESTS_PER_DISPATCH };
}

/**
 * Runs `work` and records what it consumed against the goal, also when it throws. Recording is
 * best effort: a failure to record is logged and never fails the work it measured.
 */
export async function meterInvocation<T>(runtime: Runtime, invocation: MeteredInvocation, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const meter = newInvocationMeter();
  try {
    return await meterInvocationUsage(meter, work);
  } finally {
    const durationMs = performance.now() - started;
    try {
      await meterInvocationUsage(meter, () => record(runtime, invocation, durationMs, meter));
    } catch (error) {
      logger.warn('infrastructure usage not recorded', { goalId: invocation.goalId, error: error as Error });
    }
  }
}

async function record(runtime: Runtime, invocation: MeteredInvocation, durationMs: number, meter: InvocationMeter): Promise<void> {
  // The goal's project keys the per-day counters; reading it is part of what is counted.
  const goal = await runtime.store.goals.get(invocation.goalId);
  const memoryMb = Number(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE) || invocation.memoryMb;
  const quantities: InfrastructureQuantities = {
    lambdaGbSeconds: gbSeconds(memoryMb, durationMs),
    lambdaRequests: 1,
    sandboxGbSeconds: gbSeconds(FUNCTION_MEMORY_MB.sandbox, meter.sandboxMs),
    sandboxRequests: meter.sandboxRequests,
    stateTransitions: invocation.stateTransitions,
    sqsRequests: invocation.sqsRequests ?? 0,
    dynamoReadUnits: meter.readUnits,
    dynamoWriteUnits: meter.writeUnits + WRITE_UNITS_PER_RECORDING,
    busEvents: meter.busEvents,
  };
  const usd = priceInfrastructure(quantities, infrastructurePrices(runtime.config.prices?.infrastructure));
  await runtime.store.infrastructureUsage.add({ goalId: goal.id, projectId: goal.projectId }, dayOf(new Date().toISOString()), { ...quantities, usd });
}

/** A command runner whose commands' time counts as sandbox function time of the current invocation. */
export function meteredCommands(runner: CommandRunner): CommandRunner {
  // Installs run in the setup function, commands in the sandbox function: both are sandbox time.
  const metered = async <T>(call: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await call();
    } finally {
      const meter = currentInvocationMeter();
      if (meter) {
        meter.sandboxMs += performance.now() - started;
        meter.sandboxRequests += 1;
      }
    }
  };
  return {
    workspaceRoot: runner.workspaceRoot,
    run: (request) => metered(() => runner.run(request)),
    setup: (request) => metered(() => runner.setup(request)),
  };
}

/**
 * GoalCostUsd, once per ended goal, by `kind`: its token cost and its infrastructure cost so far
 * (the ending step's own invocation is recorded just after and is not in it). The Cost dashboard's
 * "infrastructure vs tokens" graph reads them.
 */
export async function emitGoalCostMetrics(runtime: Runtime, goal: Goal): Promise<void> {
  const infrastructure = await runtime.store.infrastructureUsage.forGoal(goal.id);
  for (const [kind, usd] of [
    ['tokens', goal.costUsd],
    ['infrastructure', infrastructure.usd],
  ] as const) {
    const single = metrics.singleMetric();
    single.addDimension('kind', kind);
    single.addMetric('GoalCostUsd', 'None', usd);
  }
}

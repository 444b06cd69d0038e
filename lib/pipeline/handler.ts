// Builds the Lambda handler of a pipeline step: observability middlewares, zod parsing of the
// state's input, the runtime, one call into lib/pipeline. Our errors leave with their
// `stepFunctionsError` as `name`, which Lambda reports as the error type that Retry and Catch match.
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { asStepFunctionsFailure } from '../domain/errors';
import { observability } from '../middleware';
import { logger } from '../powertools';
import { getRuntime, type Runtime } from '../runtime';
import { isPipelineStepName, type PipelineStepName } from './definition';
import { meterInvocation, stepInvocation } from './infrastructure-usage';
import { parseStepInput } from './inputs';

export function pipelineStepHandler<S extends z.ZodType, R>(
  /** A goal pipeline step, or a step of another workflow built the same way (DetectWork). */
  step: PipelineStepName | (string & {}),
  schema: S,
  run: (runtime: Runtime, input: z.infer<S>) => Promise<R>,
): middy.MiddyfiedHandler<unknown, R, Error, Context> {
  return middy(async (event: unknown): Promise<R> => {
    try {
      const input = parseStepInput(schema, event, step);
      const ids = input as { goalId?: string; taskId?: string };
      logger.appendKeys({ step, goalId: ids.goalId, taskId: ids.taskId });
      const runtime = await getRuntime();
      // Every goal pipeline step works for one goal; what it consumes counts towards that goal's
      // infrastructure cost. Other workflows' steps (DetectWork) belong to no goal.
      if (!ids.goalId || !isPipelineStepName(step)) return await run(runtime, input);
      return await meterInvocation(runtime, stepInvocation(step, ids.goalId), () => run(runtime, input));
    } catch (error) {
      throw asStepFunctionsFailure(error);
    }
  }).use(observability());
}

// Builds the Lambda handler of a pipeline step: observability middlewares, zod parsing of the
// state's input, the runtime, one call into lib/pipeline. Errors keep their `name`, which Step
// Functions reports as the error type that Retry and Catch match.
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { observability } from '../middleware';
import { logger } from '../powertools';
import { getRuntime, type Runtime } from '../runtime';
import { parseStepInput } from './inputs';

export function pipelineStepHandler<S extends z.ZodType, R>(
  step: string,
  schema: S,
  run: (runtime: Runtime, input: z.infer<S>) => Promise<R>,
): middy.MiddyfiedHandler<unknown, R, Error, Context> {
  return middy(async (event: unknown): Promise<R> => {
    const input = parseStepInput(schema, event, step);
    const ids = input as { goalId?: string; taskId?: string };
    logger.appendKeys({ step, goalId: ids.goalId, taskId: ids.taskId });
    return run(await getRuntime(), input);
  }).use(observability());
}

// The Lambda `context` object handlers receive when the local runtime calls them in-process, plus
// the fake account and region local ARNs are built from.
import type { Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { LocalRuntimeError } from './errors';

/** The account id in every local ARN; no real account has it. */
export const LOCAL_ACCOUNT_ID = '000000000000';

/** The region in local ARNs and event records: the configured one, so SDK-style parsing stays plausible. */
export function localRegion(): string {
  return process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
}

export function localFunctionArn(functionName: string): string {
  return `arn:aws:lambda:${localRegion()}:${LOCAL_ACCOUNT_ID}:function:${functionName}`;
}

/** The deprecated callback-style context methods; handlers here are async, so calling one is a bug. */
export class UnsupportedContextCallError extends LocalRuntimeError {
  readonly code = 'UnsupportedContextCall';
  constructor(method: string) {
    super(`context.${method}() is not supported by the local runtime; return or throw from the async handler`);
  }
}

export interface LocalLambdaContextOptions {
  functionName: string;
  invokedFunctionArn?: string;
  /** The function's configured timeout; drives getRemainingTimeInMillis. Not enforced locally. */
  timeoutMs?: number;
  memoryLimitInMB?: number;
}

export function createLambdaContext(options: LocalLambdaContextOptions): Context {
  const deadline = Date.now() + (options.timeoutMs ?? 900_000);
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: options.invokedFunctionArn ?? localFunctionArn(options.functionName),
    memoryLimitInMB: String(options.memoryLimitInMB ?? 1024),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {
      throw new UnsupportedContextCallError('done');
    },
    fail: () => {
      throw new UnsupportedContextCallError('fail');
    },
    succeed: () => {
      throw new UnsupportedContextCallError('succeed');
    },
  };
}

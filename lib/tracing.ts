// Our tracing seam. Handlers and SDK clients depend on these two functions only, so moving from
// the X-Ray SDK (behind Powertools Tracer, in maintenance) to OpenTelemetry touches this file alone.
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type middy from '@middy/core';

const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'cahoots' });

/** Wraps an AWS SDK v3 client so each call becomes a subsegment. Endpoints stay SDK-resolved. */
export function traceAwsClient<T>(client: T): T {
  return tracer.captureAWSv3Client(client);
}

/** The middy middleware that opens one trace segment per invocation. */
export function tracingMiddleware(): middy.MiddlewareObj {
  return captureLambdaHandler(tracer, { captureResponse: false });
}

// The middy middlewares every Lambda handler uses, in one place: logger context (with keys reset
// between invocations), one trace segment per invocation, and EMF metrics flushed at the end.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type middy from '@middy/core';
import { logger, metrics } from './powertools';
import { tracingMiddleware } from './tracing';

export function observability(): middy.MiddlewareObj[] {
  return [
    injectLambdaContext(logger, { resetKeys: true }),
    tracingMiddleware(),
    logMetrics(metrics, { captureColdStartMetric: true }),
  ];
}

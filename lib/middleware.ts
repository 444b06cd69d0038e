// The middy middlewares every Lambda handler uses, in one place: logger context (with keys reset
// between invocations), one trace segment per invocation, and EMF metrics flushed at the end.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type middy from '@middy/core';
import { logger, metrics } from './powertools';
import { tracingMiddleware } from './tracing';

export function observability(): middy.MiddlewareObj[] {
  const middlewares = [injectLambdaContext(logger, { resetKeys: true }), tracingMiddleware()];
  // With metrics switched off (local runtime, tests) there is nothing to flush, and flushing an
  // empty set only prints a warning per invocation.
  if (!isTruthy(process.env.POWERTOOLS_METRICS_DISABLED)) middlewares.push(logMetrics(metrics, { captureColdStartMetric: true }));
  return middlewares;
}

function isTruthy(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 'yes', 'on'].includes(value.toLowerCase());
}

// The Lambda handler of POST /webhooks/github: the shared observability middlewares, the raw body
// and GitHub's headers handed to receiveGitHubDelivery, and every failure in the API's error shape.
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { apiDependencies } from '../api/dependencies';
import { errorResult, RequestValidationError } from '../api/errors';
import { bodyText, header, jsonResponse, queryParameters, requireJsonContentType } from '../api/http';
import { githubWebhookRoute } from '../api/routes';
import { observability } from '../middleware';
import { logger } from '../powertools';
import { GITHUB_HEADERS } from './github-payloads';
import { receiveGitHubDelivery, WEBHOOK_MAX_BODY_BYTES } from './github';

/** Handles one delivery; never throws. */
export async function handleGitHubWebhookEvent(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const deliveryId = header(event, GITHUB_HEADERS.delivery);
  logger.appendKeys({ operation: 'receiveGitHubWebhook', deliveryId, githubEvent: header(event, GITHUB_HEADERS.event) });
  try {
    const query = githubWebhookRoute.query.safeParse(queryParameters(event));
    if (!query.success) throw new RequestValidationError('query', query.error.issues);
    const body = bodyText(event, WEBHOOK_MAX_BODY_BYTES);
    // GitHub's other content type (form-encoded `payload=`) would be signed differently; say which to pick.
    if (body !== undefined) requireJsonContentType(header(event, 'Content-Type'));
    const result = await receiveGitHubDelivery(await apiDependencies(), {
      body,
      signature: header(event, GITHUB_HEADERS.signature),
      event: header(event, GITHUB_HEADERS.event),
      deliveryId,
    });
    return jsonResponse(result.status, result.body);
  } catch (error) {
    const failure = errorResult(error);
    if (failure.status < 500) logger.info('webhook delivery refused', { status: failure.status, code: failure.body.error.code });
    return jsonResponse(failure.status, failure.body, failure.headers);
  }
}

export const githubWebhookHandler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
  .use(observability())
  .handler((event) => handleGitHubWebhookEvent(event));

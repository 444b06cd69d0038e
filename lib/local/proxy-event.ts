// Builds the API Gateway (REST, proxy integration) event a deployed API would hand a handler,
// from a plain HTTP request — so the local server and the tests drive the very same handlers.
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { nullPrototypeRecord } from '../api/http';

export interface HttpRequestInput {
  method: string;
  /** The path without the query string, as sent (percent-encoding intact or not). */
  path: string;
  /** Query parameters; a repeated name is an array, as it arrives. */
  query?: Record<string, string | readonly string[]>;
  headers?: Record<string, string | readonly string[] | undefined>;
  /** Text bodies stay text; bytes are passed base64-encoded, as API Gateway does for binary. */
  body?: string | Uint8Array;
  /** The caller's identity where API Gateway would put the verified IAM principal. */
  principal?: string;
  sourceIp?: string;
  /** Stage name; the deployed API's base path is `/<stage>`. Locally there is none. */
  stage?: string;
}

export function createProxyEvent(input: HttpRequestInput): APIGatewayProxyEvent {
  // Client-chosen names (`__proto__` included) must land as own keys, as API Gateway delivers them.
  const headers = nullPrototypeRecord<string>();
  const multiValueHeaders = nullPrototypeRecord<string[]>();
  for (const [name, value] of Object.entries(input.headers ?? {})) {
    if (value === undefined) continue;
    const values = typeof value === 'string' ? [value] : [...value];
    if (values.length === 0) continue;
    headers[name] = values[values.length - 1] as string;
    multiValueHeaders[name] = values;
  }
  const entries = Object.entries(input.query ?? {});
  const queryStringParameters = nullPrototypeRecord<string>();
  const multiValueQueryStringParameters = nullPrototypeRecord<string[]>();
  for (const [name, value] of entries) {
    const values = typeof value === 'string' ? [value] : [...value];
    if (values.length === 0) continue;
    queryStringParameters[name] = values[values.length - 1] as string;
    multiValueQueryStringParameters[name] = values;
  }
  const binary = input.body instanceof Uint8Array;
  const body = input.body === undefined ? null : binary ? Buffer.from(input.body as Uint8Array).toString('base64') : (input.body as string);
  const now = Date.now();
  const stagePrefix = input.stage ? `/${input.stage}` : '';
  return {
    resource: input.path,
    path: input.path,
    httpMethod: input.method.toUpperCase(),
    headers,
    multiValueHeaders,
    queryStringParameters: entries.length > 0 ? queryStringParameters : null,
    multiValueQueryStringParameters: entries.length > 0 ? multiValueQueryStringParameters : null,
    pathParameters: null,
    stageVariables: null,
    body,
    isBase64Encoded: binary,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: input.method.toUpperCase(),
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: input.sourceIp ?? '127.0.0.1',
        user: null,
        userAgent: headers['user-agent'] ?? headers['User-Agent'] ?? null,
        userArn: input.principal ?? null,
      },
      path: `${stagePrefix}${input.path}`,
      stage: input.stage ?? 'local',
      requestId: randomUUID(),
      requestTimeEpoch: now,
      resourceId: 'local',
      resourcePath: input.path,
    },
  };
}

// Reading API-Gateway-shaped requests and writing their responses: headers, query strings, body
// size and media type, JSON parsing, the caller's identity, and the JSON response envelope.
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Actor } from '../domain/index';
import { DuplicateQueryParameterError, InvalidJsonError, PayloadTooLargeError, UnsupportedMediaTypeError } from './errors';

/** What a route's operation hands back; `location` is relative to the API's base path. */
export interface ApiResult<T = unknown> {
  status: number;
  body: T;
  location?: string;
}

export function ok<T>(body: T): ApiResult<T> {
  return { status: 200, body };
}

export function created<T>(body: T, location: string): ApiResult<T> {
  return { status: 201, body, location };
}

/** The work was accepted and continues asynchronously (a goal's pipeline). */
export function accepted<T>(body: T, location: string): ApiResult<T> {
  return { status: 202, body, location };
}

/** Case-insensitive header lookup (API Gateway keeps the client's spelling, HTTP does not care). */
export function header(event: Pick<APIGatewayProxyEvent, 'headers' | 'multiValueHeaders'>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  for (const [key, values] of Object.entries(event.multiValueHeaders ?? {})) {
    if (key.toLowerCase() === wanted && values && values.length > 0) return values.join(', ');
  }
  return undefined;
}

/**
 * The query string as one value per name. A name given twice is refused: which one a client
 * meant is a guess, and a guess about `status` or `cursor` returns the wrong page.
 */
export function queryParameters(event: Pick<APIGatewayProxyEvent, 'queryStringParameters' | 'multiValueQueryStringParameters'>): Record<string, string> {
  // No prototype: a parameter named `__proto__` must stay a parameter (and be refused as unknown)
  // rather than vanish into the prototype slot of a plain object.
  const out = nullPrototypeRecord<string>();
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) {
    if (!values) continue;
    if (values.length > 1) throw new DuplicateQueryParameterError(name);
    if (values[0] !== undefined) out[name] = values[0];
  }
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined && !Object.hasOwn(out, name)) out[name] = value;
  }
  return out;
}

/** A record whose keys are only ever its own: safe for names chosen by a client. */
export function nullPrototypeRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** The body as text, refusing it before decoding when it is larger than `maxBytes`. */
export function bodyText(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>, maxBytes: number): string | undefined {
  const raw = event.body;
  if (raw === null || raw === undefined || raw.length === 0) return undefined;
  if (event.isBase64Encoded) {
    // Four base64 characters carry three bytes; check before allocating the decoded buffer.
    if (Math.floor((raw.length * 3) / 4) > maxBytes + 2) throw new PayloadTooLargeError(maxBytes);
    const bytes = Buffer.from(raw, 'base64');
    if (bytes.length > maxBytes) throw new PayloadTooLargeError(maxBytes);
    return bytes.toString('utf8');
  }
  if (raw.length > maxBytes || Buffer.byteLength(raw, 'utf8') > maxBytes) throw new PayloadTooLargeError(maxBytes);
  return raw;
}

/** `application/json`, optionally with `charset=utf-8`; anything else is a 415. */
export function requireJsonContentType(contentType: string | undefined): void {
  if (!contentType) throw new UnsupportedMediaTypeError(undefined);
  const [mediaType, ...parameters] = contentType.split(';').map((part) => part.trim().toLowerCase());
  if (mediaType !== 'application/json') throw new UnsupportedMediaTypeError(contentType);
  for (const parameter of parameters) {
    const [name, value] = parameter.split('=').map((part) => part.trim());
    if (name === 'charset' && value !== 'utf-8' && value !== '"utf-8"' && value !== 'utf8') throw new UnsupportedMediaTypeError(contentType);
  }
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidJsonError(error instanceof Error ? error.message : 'unparseable');
  }
}

/**
 * Who is calling: the IAM principal API Gateway verified (SigV4), a JWT subject when a Cognito
 * authorizer is configured, or `anonymous` for a local server that sets neither.
 */
export function actorOf(event: Pick<APIGatewayProxyEvent, 'requestContext'>): Actor {
  const context = event.requestContext as Partial<APIGatewayProxyEvent['requestContext']> | undefined;
  const identity = context?.identity;
  const claims = (context?.authorizer as { claims?: { sub?: unknown } } | null | undefined)?.claims;
  const id = identity?.userArn ?? identity?.caller ?? (typeof claims?.sub === 'string' ? claims.sub : undefined) ?? 'anonymous';
  return { kind: 'user', id: id.slice(0, 200) || 'anonymous' };
}

/**
 * The prefix between the host and the route (`/prod` on an execute-api URL, a base path mapping
 * on a custom domain, nothing locally), so a Location header resolves from the client's side.
 */
export function basePath(event: Pick<APIGatewayProxyEvent, 'path' | 'requestContext'>): string {
  const full = (event.requestContext as Partial<APIGatewayProxyEvent['requestContext']> | undefined)?.path;
  if (typeof full !== 'string' || typeof event.path !== 'string' || !full.endsWith(event.path)) return '';
  return full.slice(0, full.length - event.path.length).replace(/\/+$/, '');
}

const BASE_HEADERS = {
  'Content-Type': 'application/json; charset=utf-8',
  // Responses describe live state; an intermediary must not serve yesterday's goal status.
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
} as const;

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode: status, headers: { ...BASE_HEADERS, ...headers }, body: JSON.stringify(body) };
}

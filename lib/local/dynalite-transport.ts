// The DynamoDB client of the local runtime talks to dynalite inside the same process: the SDK's
// request goes straight to dynalite's HTTP request listener as a small in-memory request/response
// pair, with no socket, no HTTP parsing and no SigV4 signature. Everything above the transport —
// serialisation, retries, error types, the responses' shapes — is the SDK's own, so the store runs
// the same requests it runs against DynamoDB. Processes that need a real endpoint (a child process
// with AWS_ENDPOINT_URL_DYNAMODB) still reach the same dynalite over its loopback listener.
import { EventEmitter } from 'node:events';
import type { AwsCredentialIdentity, HttpAuthScheme, HttpHandlerOptions, HttpRequest, HttpResponse, HttpSigner, RequestHandler, RequestHandlerOutput } from '@smithy/types';
import { LocalRuntimeError } from './errors';

/** The part of a Node request that dynalite's listener reads. */
export interface DynaliteRequest extends EventEmitter {
  method: string;
  url: string;
  headers: Record<string, string>;
}

/** The part of a Node response that dynalite's listener writes. */
export interface DynaliteResponse {
  statusCode: number;
  setHeader(name: string, value: string | number): void;
  end(body?: string): void;
}

export type DynaliteRequestListener = (request: DynaliteRequest, response: DynaliteResponse) => void;

/** dynalite's listener answered in a way no HTTP server would (no reply, or a throw). */
export class DynaliteTransportError extends LocalRuntimeError {
  readonly code = 'DynaliteTransport';
}

class InMemoryResponse implements DynaliteResponse {
  statusCode = 200;
  readonly headers: Record<string, string> = {};
  // dynalite keeps the negotiated content type on the response object between its own calls.
  contentType?: string;

  constructor(private readonly onEnd: (response: InMemoryResponse, body: string) => void) {}

  setHeader(name: string, value: string | number): void {
    this.headers[name.toLowerCase()] = String(value);
  }

  end(body = ''): void {
    this.onEnd(this, body);
  }
}

function requestPath(request: HttpRequest): string {
  const query = Object.entries(request.query ?? {})
    .flatMap(([key, value]) => (value === null ? [key] : (Array.isArray(value) ? value : [value]).map((v) => `${key}=${encodeURIComponent(v)}`)))
    .join('&');
  return query ? `${request.path}?${query}` : request.path;
}

function bodyBytes(body: unknown): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  // The DynamoDB JSON protocol always serialises to a string; a stream here means another client.
  throw new DynaliteTransportError(`the in-process DynamoDB transport takes string or byte bodies, not ${Object.prototype.toString.call(body)}`);
}

/**
 * A Smithy HTTP handler that hands each request to dynalite's request listener in this process.
 * Pass it as `requestHandler` to a DynamoDBClient (with {@link unsignedDynaliteAuth}).
 */
export class InProcessDynaliteHandler implements RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions> {
  readonly metadata = { handlerProtocol: 'http/1.1' };

  constructor(private readonly listener: DynaliteRequestListener) {}

  handle(request: HttpRequest, options: HttpHandlerOptions = {}): Promise<RequestHandlerOutput<HttpResponse>> {
    const signal = options.abortSignal;
    if (signal?.aborted) return Promise.reject(abortError());
    return new Promise((resolve, reject) => {
      const stopWatching = whenAborted(signal, () => reject(abortError()));
      const response = new InMemoryResponse((answered, body) => {
        stopWatching();
        resolve({ response: { statusCode: answered.statusCode, headers: answered.headers, body: Buffer.from(body, 'utf8') } });
      });
      const incoming = Object.assign(new EventEmitter(), {
        method: request.method,
        url: requestPath(request),
        headers: Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value])),
      });
      try {
        const body = bodyBytes(request.body);
        this.listener(incoming, response);
        // The listener has attached its 'data' and 'end' handlers synchronously, as on a socket.
        if (body && body.length > 0) incoming.emit('data', body);
        incoming.emit('end');
      } catch (error) {
        stopWatching();
        reject(error instanceof Error ? error : new DynaliteTransportError(`dynalite's request listener threw ${String(error)}`));
      }
    });
  }

  updateHttpClientConfig(): void {
    // Nothing to configure: there are no sockets, timeouts or agents.
  }

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  destroy(): void {
    // Nothing to release: requests hold no connections.
  }
}

type AbortSignalLike = NonNullable<HttpHandlerOptions['abortSignal']>;

/** Calls `onAbort` when the signal aborts; returns the function that stops watching. */
function whenAborted(signal: AbortSignalLike | undefined, onAbort: () => void): () => void {
  if (!signal) return () => {};
  // The SDK passes either a DOM AbortSignal or its own older one that only has `onabort`.
  if ('addEventListener' in signal && typeof signal.addEventListener === 'function') {
    signal.addEventListener('abort', onAbort, { once: true });
    return () => signal.removeEventListener('abort', onAbort);
  }
  const previous = signal.onabort;
  signal.onabort = onAbort;
  return () => {
    signal.onabort = previous;
  };
}

function abortError(): Error {
  const error = new Error('Request aborted');
  error.name = 'AbortError';
  return error;
}

// dynalite checks that a request carries an Authorization header in SigV4's form with an
// X-Amz-Date, and never verifies the signature (it answers MissingAuthenticationTokenException when
// the header is absent). So in-process requests carry that form without the hashing: computing a
// real signature for a listener that ignores it was most of the SDK's cost per request.
const PLACEHOLDER_DATE = '20000101T000000Z';
const PLACEHOLDER_AUTHORIZATION = 'AWS4-HMAC-SHA256 Credential=local/20000101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=unsigned';

const unsignedSigner: HttpSigner = {
  sign(request) {
    request.headers['x-amz-date'] = PLACEHOLDER_DATE;
    request.headers.authorization = PLACEHOLDER_AUTHORIZATION;
    return Promise.resolve(request);
  },
};

const LOCAL_CREDENTIALS: AwsCredentialIdentity = { accessKeyId: 'local', secretAccessKey: 'local' };

/** `httpAuthSchemes` for a DynamoDBClient on the in-process transport: SigV4's scheme id, no signing. */
export function unsignedDynaliteAuth(): HttpAuthScheme[] {
  return [{ schemeId: 'aws.auth#sigv4', identityProvider: () => () => Promise.resolve(LOCAL_CREDENTIALS), signer: unsignedSigner }];
}

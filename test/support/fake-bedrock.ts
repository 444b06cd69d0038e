// A local HTTP fake of Bedrock Runtime's Converse REST protocol, for tests that drive the real
// AWS SDK through AWS_ENDPOINT_URL_BEDROCK_RUNTIME. Replies are scripted; requests are recorded.
// It speaks cleartext HTTP/2, because the Bedrock Runtime client sends every call over HTTP/2.
// With a BedrockPromptCache it bills input tokens as Bedrock's prompt cache would.
import {
  createServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
  type IncomingHttpHeaders,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { PromptCacheRuleError, type BedrockPromptCache } from './bedrock-prompt-cache';
import { ReplyScript } from './reply-script';

export interface BedrockUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

export type BedrockReplyBlock =
  | { text: string }
  | { toolUse: { toolUseId: string; name: string; input: unknown } }
  | Record<string, unknown>;

export type FakeBedrockReply =
  | {
      type: 'message';
      content: BedrockReplyBlock[];
      stopReason?: string;
      usage?: Partial<BedrockUsage>;
      delayMs?: number;
    }
  /** An AWS error as the SDK reads it: status, `x-amzn-errortype` header, `{"message"}` body. */
  | { type: 'error'; status: number; errorType: string; message: string; delayMs?: number }
  /** Anything else, byte for byte (malformed JSON, odd content types). */
  | { type: 'raw'; status: number; body: string; headers?: Record<string, string>; delayMs?: number };

export interface RecordedBedrockRequest {
  method: string;
  path: string;
  /** URL-decoded `{modelId}` path parameter. */
  modelId: string;
  operation: 'converse' | 'converse-stream' | 'other';
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, or undefined if it was not JSON. */
  body: any;
  rawBody: string;
}

export type FakeBedrockHandler = (request: RecordedBedrockRequest) => FakeBedrockReply | Promise<FakeBedrockReply>;

export interface FakeBedrock {
  /** Base URL to put in AWS_ENDPOINT_URL_BEDROCK_RUNTIME. */
  readonly url: string;
  /** Every request received, in arrival order. */
  readonly requests: RecordedBedrockRequest[];
  /** Queue replies for any model. */
  reply(...replies: FakeBedrockReply[]): FakeBedrock;
  /** Queue replies for one model id (taken before the shared queue). */
  replyFor(modelId: string, ...replies: FakeBedrockReply[]): FakeBedrock;
  /** Answers requests when no queued reply is left. */
  onRequest(handler: FakeBedrockHandler | undefined): FakeBedrock;
  /** Replies still queued (a test can assert the script was used up). */
  pending(): number;
  reset(): void;
  close(): Promise<void>;
}

// ---- reply builders -------------------------------------------------------------------------

export const bedrockText = (text: string, usage: Partial<BedrockUsage> = {}, stopReason = 'end_turn'): FakeBedrockReply => ({
  type: 'message',
  content: [{ text }],
  stopReason,
  usage,
});

export const bedrockToolUse = (
  calls: { toolUseId: string; name: string; input: unknown }[],
  usage: Partial<BedrockUsage> = {},
  text?: string,
): FakeBedrockReply => ({
  type: 'message',
  content: [...(text ? [{ text }] : []), ...calls.map((toolUse) => ({ toolUse }))],
  stopReason: 'tool_use',
  usage,
});

export const bedrockError = (status: number, errorType: string, message: string): FakeBedrockReply => ({
  type: 'error',
  status,
  errorType,
  message,
});

export const throttling = (message = 'Too many requests, please wait before trying again.') =>
  bedrockError(429, 'ThrottlingException', message);
export const internalServerError = (message = 'The server encountered an internal error.') =>
  bedrockError(500, 'InternalServerException', message);
export const serviceUnavailable = (message = 'Service is unavailable.') =>
  bedrockError(503, 'ServiceUnavailableException', message);
export const validationError = (message: string) => bedrockError(400, 'ValidationException', message);
export const accessDenied = (message = 'You don\'t have access to the model with the specified model ID.') =>
  bedrockError(403, 'AccessDeniedException', message);

// ---- server ---------------------------------------------------------------------------------

const ROUTE = /^\/model\/([^/]+)\/(converse|converse-stream)$/;

export interface FakeBedrockOptions {
  /** Accounts cache reads and writes of every answered call; its figures replace the scripted input usage. */
  promptCache?: BedrockPromptCache;
}

export async function startFakeBedrock(options: FakeBedrockOptions = {}): Promise<FakeBedrock> {
  const requests: RecordedBedrockRequest[] = [];
  const script = new ReplyScript<RecordedBedrockRequest, FakeBedrockReply>();

  const next = async (request: RecordedBedrockRequest): Promise<FakeBedrockReply> => {
    // Not retryable, so an unscripted call fails the test at once with a clear message.
    return script.next(request.modelId, request, () =>
      validationError(`fake-bedrock: no scripted reply for ${request.operation} on model ${request.modelId}`),
    );
  };

  const sessions = new Set<Http2Session>();
  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`fake-bedrock failed: ${String(error)}`);
    });
  });
  server.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });

  async function handle(req: Http2ServerRequest, res: Http2ServerResponse) {
    const rawBody = await readBody(req);
    const path = (req.url ?? '/').split('?')[0]!;
    const route = ROUTE.exec(path);
    let body: unknown;
    try {
      body = rawBody ? JSON.parse(rawBody) : undefined;
    } catch {
      body = undefined;
    }
    const recorded: RecordedBedrockRequest = {
      method: req.method ?? 'GET',
      path,
      modelId: route ? decodeURIComponent(route[1]!) : '',
      operation: route ? (route[2] as 'converse' | 'converse-stream') : 'other',
      headers: req.headers,
      body,
      rawBody,
    };
    requests.push(recorded);
    if (req.method !== 'POST' || !route || route[2] !== 'converse') {
      send(res, 404, { 'x-amzn-errortype': 'UnknownOperationException' }, JSON.stringify({ message: `no route ${req.method} ${path}` }));
      return;
    }
    const reply = await next(recorded);
    if (reply.delayMs) {
      const aborted = await waitUnlessClosed(res, reply.delayMs);
      if (aborted) return;
    }
    switch (reply.type) {
      case 'message': {
        let cached: Partial<BedrockUsage> = {};
        if (options.promptCache) {
          try {
            const { inputTokens, cacheReadInputTokens, cacheWriteInputTokens } = options.promptCache.account(recorded.modelId, body);
            cached = { inputTokens, cacheReadInputTokens, cacheWriteInputTokens };
          } catch (error) {
            if (!(error instanceof PromptCacheRuleError)) throw error;
            send(res, 400, { 'x-amzn-errortype': 'ValidationException' }, JSON.stringify({ message: error.message }));
            return;
          }
        }
        const usage = { inputTokens: 10, outputTokens: 5, ...reply.usage, ...cached };
        const totalTokens =
          usage.inputTokens + usage.outputTokens + (usage.cacheReadInputTokens ?? 0) + (usage.cacheWriteInputTokens ?? 0);
        send(
          res,
          200,
          {},
          JSON.stringify({
            output: { message: { role: 'assistant', content: reply.content } },
            stopReason: reply.stopReason ?? 'end_turn',
            usage: { ...usage, totalTokens },
            metrics: { latencyMs: reply.delayMs ?? 1 },
          }),
        );
        return;
      }
      case 'error':
        send(res, reply.status, { 'x-amzn-errortype': reply.errorType }, JSON.stringify({ message: reply.message }));
        return;
      case 'raw':
        send(res, reply.status, reply.headers ?? {}, reply.body);
        return;
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const fake: FakeBedrock = {
    url: `http://127.0.0.1:${port}`,
    requests,
    reply(...replies) {
      script.reply(replies);
      return fake;
    },
    replyFor(modelId, ...replies) {
      script.replyFor(modelId, replies);
      return fake;
    },
    onRequest(h) {
      script.onRequest(h);
      return fake;
    },
    pending: () => script.pending(),
    reset() {
      requests.length = 0;
      script.reset();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const session of sessions) session.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
  return fake;
}

function readBody(req: Http2ServerRequest): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: Http2ServerResponse, status: number, headers: Record<string, string>, body: string) {
  if (res.destroyed) return;
  res.writeHead(status, {
    'content-type': 'application/json',
    'x-amzn-requestid': `fake-${Math.random().toString(36).slice(2)}`,
    ...headers,
  });
  res.end(body);
}

/** Resolves true if the client went away first (it timed out), so no reply is written. */
function waitUnlessClosed(res: Http2ServerResponse, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(false);
    }, ms);
    const onClose = () => {
      clearTimeout(timer);
      resolve(true);
    };
    res.on('close', onClose);
  });
}

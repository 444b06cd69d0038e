// A local HTTP fake of an OpenAI-compatible Chat Completions server (POST …/chat/completions),
// for tests that drive the openai provider over real HTTP. Replies are scripted; requests are recorded.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ReplyScript } from './reply-script';

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  /** Reported as usage.prompt_tokens_details.cached_tokens. */
  cached_tokens?: number;
}

export interface FakeToolCall {
  id?: string;
  name: string;
  /** A string is sent verbatim (so a test can send broken JSON); an object is JSON-encoded. */
  arguments: string | Record<string, unknown>;
}

export type FakeOpenAIReply =
  | {
      type: 'message';
      content?: string | null;
      toolCalls?: FakeToolCall[];
      finishReason?: string;
      /** null leaves the usage block out, as some servers do. */
      usage?: Partial<OpenAIUsage> | null;
      delayMs?: number;
    }
  | { type: 'error'; status: number; message: string; headers?: Record<string, string>; delayMs?: number }
  | { type: 'raw'; status: number; body: string; headers?: Record<string, string>; delayMs?: number };

export interface RecordedOpenAIRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, or undefined if it was not JSON. */
  body: any;
  rawBody: string;
}

export type FakeOpenAIHandler = (request: RecordedOpenAIRequest) => FakeOpenAIReply | Promise<FakeOpenAIReply>;

export interface FakeOpenAI {
  /** Base URL for `openai:<model>@<baseUrl>`, ending in /v1. */
  readonly baseUrl: string;
  readonly requests: RecordedOpenAIRequest[];
  reply(...replies: FakeOpenAIReply[]): FakeOpenAI;
  /** Queue replies for one `model` value of the request body (taken before the shared queue). */
  replyFor(model: string, ...replies: FakeOpenAIReply[]): FakeOpenAI;
  onRequest(handler: FakeOpenAIHandler | undefined): FakeOpenAI;
  pending(): number;
  reset(): void;
  close(): Promise<void>;
}

// ---- reply builders -------------------------------------------------------------------------

export const openaiText = (content: string, usage: Partial<OpenAIUsage> = {}): FakeOpenAIReply => ({
  type: 'message',
  content,
  finishReason: 'stop',
  usage,
});

export const openaiToolCalls = (toolCalls: FakeToolCall[], usage: Partial<OpenAIUsage> = {}): FakeOpenAIReply => ({
  type: 'message',
  content: null,
  toolCalls,
  finishReason: 'tool_calls',
  usage,
});

export const openaiError = (status: number, message: string, headers?: Record<string, string>): FakeOpenAIReply => ({
  type: 'error',
  status,
  message,
  headers,
});

// ---- server ---------------------------------------------------------------------------------

export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const requests: RecordedOpenAIRequest[] = [];
  const script = new ReplyScript<RecordedOpenAIRequest, FakeOpenAIReply>();
  let sequence = 0;

  const next = async (request: RecordedOpenAIRequest): Promise<FakeOpenAIReply> => {
    const model = typeof request.body?.model === 'string' ? request.body.model : '';
    return script.next(model, request, () => openaiError(400, `fake-openai: no scripted reply for model ${model}`));
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`fake-openai failed: ${String(error)}`);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const rawBody = await readBody(req);
    const path = (req.url ?? '/').split('?')[0]!;
    let body: unknown;
    try {
      body = rawBody ? JSON.parse(rawBody) : undefined;
    } catch {
      body = undefined;
    }
    const recorded: RecordedOpenAIRequest = { method: req.method ?? 'GET', path, headers: req.headers, body, rawBody };
    requests.push(recorded);
    if (req.method !== 'POST' || !path.endsWith('/chat/completions')) {
      send(res, 404, {}, JSON.stringify({ error: { message: `no route ${req.method} ${path}`, type: 'invalid_request_error' } }));
      return;
    }
    const reply = await next(recorded);
    if (reply.delayMs && (await waitUnlessClosed(res, reply.delayMs))) return;
    switch (reply.type) {
      case 'message': {
        sequence++;
        const toolCalls = reply.toolCalls?.map((call, i) => ({
          id: call.id ?? `call_fake_${sequence}_${i}`,
          type: 'function',
          function: {
            name: call.name,
            arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
          },
        }));
        const u = reply.usage === null ? undefined : { prompt_tokens: 10, completion_tokens: 5, ...reply.usage };
        send(
          res,
          200,
          {},
          JSON.stringify({
            id: `chatcmpl-fake-${sequence}`,
            object: 'chat.completion',
            created: Math.floor(Date.now() / 1000),
            model: (body as { model?: string } | undefined)?.model ?? 'unknown',
            choices: [
              {
                index: 0,
                message: { role: 'assistant', content: reply.content ?? null, ...(toolCalls ? { tool_calls: toolCalls } : {}) },
                finish_reason: reply.finishReason ?? (toolCalls ? 'tool_calls' : 'stop'),
              },
            ],
            ...(u
              ? {
                  usage: {
                    prompt_tokens: u.prompt_tokens,
                    completion_tokens: u.completion_tokens,
                    total_tokens: u.prompt_tokens + u.completion_tokens,
                    ...(u.cached_tokens !== undefined ? { prompt_tokens_details: { cached_tokens: u.cached_tokens } } : {}),
                  },
                }
              : {}),
          }),
        );
        return;
      }
      case 'error':
        send(
          res,
          reply.status,
          reply.headers ?? {},
          JSON.stringify({ error: { message: reply.message, type: reply.status === 429 ? 'rate_limit_error' : 'api_error' } }),
        );
        return;
      case 'raw':
        send(res, reply.status, reply.headers ?? {}, reply.body);
        return;
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const fake: FakeOpenAI = {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    reply(...replies) {
      script.reply(replies);
      return fake;
    },
    replyFor(model, ...replies) {
      script.replyFor(model, replies);
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
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
  return fake;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string) {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

/** Resolves true if the client went away first (it timed out), so no reply is written. */
function waitUnlessClosed(res: ServerResponse, ms: number): Promise<boolean> {
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

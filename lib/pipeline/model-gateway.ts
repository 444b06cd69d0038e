// The model gateway as the runtime builds it for any model work of a project (an agent's task, the
// analyst's detection run): the runtime's timeout and prices, the OpenAI-compatible key from the
// secrets port, and every call's tokens and cost added to the project's usage counters, which the
// project's budgets and /costs read.
import { dayOf } from '../domain/common';
import { createModelGateway, type ModelCallRecord, type ModelGateway, type ModelGatewayEvent } from '../models/index';
import type { Runtime } from '../runtime';
import { RUNTIME_ENV } from '../runtime-env';

export function runtimeModelGateway(runtime: Runtime, policy: readonly string[], onEvent: (event: ModelGatewayEvent) => Promise<void>): ModelGateway {
  const keySecret = runtime.config.openAiApiKeySecret;
  return createModelGateway({
    policy: [...policy],
    timeoutMs: runtime.config.modelTimeoutSeconds * 1000,
    ...(runtime.config.prices ? { prices: runtime.config.prices } : {}),
    ...(keySecret ? { providers: { openai: { apiKey: () => readApiKey(runtime, keySecret) } } } : {}),
    onEvent,
  });
}

/** Adds one model call to the project's usage of the day it was made. */
export async function recordModelUsage(runtime: Runtime, projectId: string, at: string, call: ModelCallRecord): Promise<void> {
  await runtime.store.usage.addUsage(projectId, dayOf(at), call.spec, {
    inputTokens: call.inputTokens,
    outputTokens: call.outputTokens,
    cacheReadTokens: call.cacheReadTokens,
    cacheWriteTokens: call.cacheWriteTokens,
    usd: call.costUsd,
    calls: 1,
  });
}

/** The OpenAI-compatible key from the secrets port (cached there), never from the environment. */
async function readApiKey(runtime: Runtime, name: string): Promise<string> {
  const key = (await runtime.ports.secrets.get(name))?.trim();
  if (!key) {
    throw new Error(`the secret "${name}" (${RUNTIME_ENV.openAiApiKeySecret}; the customer file's openAiApiKeySecret) does not exist or is empty; create it with the key as its value`);
  }
  return key;
}

// Turns a parsed model spec into the provider that serves it.
import type { ParsedModelSpec } from '../spec';
import type { ModelProvider } from '../types';
import { createBedrockProvider, type BedrockProviderOptions } from './bedrock';
import { createOpenAIProvider, type OpenAIProviderOptions } from './openai';
import { createReplayProvider, type ReplayProviderOptions } from './replay';

export interface ProviderOptions {
  bedrock?: BedrockProviderOptions;
  openai?: OpenAIProviderOptions;
  replay?: ReplayProviderOptions;
}

export function createProvider(parsed: ParsedModelSpec, options: ProviderOptions = {}): ModelProvider {
  switch (parsed.provider) {
    case 'bedrock':
      return createBedrockProvider(parsed, options.bedrock);
    case 'openai':
      return createOpenAIProvider(parsed, options.openai);
    case 'replay':
      return createReplayProvider(parsed, options.replay);
  }
}

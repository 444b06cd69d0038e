// The model gateway's public surface: import from 'lib/models' rather than its files.
export * from './types';
export * from './errors';
export * from './spec';
export * from './pricing';
export * from './gateway';
export { MAX_CACHE_POINTS, chooseCachePoints, minCacheTokens, type CacheCandidate } from './prompt-cache';
export { createProvider, type ProviderOptions } from './providers/index';
export {
  createBedrockProvider,
  resetBedrockClients,
  supportsPromptCache,
  type BedrockProviderOptions,
} from './providers/bedrock';
export { createOpenAIProvider, type OpenAIProviderOptions } from './providers/openai';
export {
  createReplayProvider,
  ReplayScriptSchema,
  ReplayConversationSchema,
  ReplayTurnSchema,
  ReplayMatchSchema,
  type ReplayScript,
  type ReplayTurn,
  type ReplayMatch,
  type ReplayProviderOptions,
} from './providers/replay';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ModelSpecSchema } from '../../lib/domain/settings';
import { InvalidModelSpecError, isLocalBaseUrl, parseModelPolicy, parseModelSpec } from '../../lib/models/index';

describe('parseModelSpec', () => {
  it('parses Bedrock model ids, inference-profile ids and ARNs', () => {
    expect(parseModelSpec('bedrock:anthropic.claude-3-5-haiku-20241022-v1:0')).toEqual({
      provider: 'bedrock',
      spec: 'bedrock:anthropic.claude-3-5-haiku-20241022-v1:0',
      modelId: 'anthropic.claude-3-5-haiku-20241022-v1:0',
    });
    expect(parseModelSpec('bedrock:us.anthropic.claude-sonnet-4-5-20250929-v1:0')).toMatchObject({
      modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    });
    const arn = 'arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-haiku-4-5-20251001-v1:0';
    expect(parseModelSpec(`bedrock:${arn}`)).toEqual({
      provider: 'bedrock',
      spec: `bedrock:${arn}`,
      modelId: arn,
      region: 'eu-west-1',
    });
    expect(parseModelSpec('bedrock:arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0')).toMatchObject({
      region: 'us-east-1',
      modelId: 'arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0',
    });
  });

  it('parses OpenAI-compatible specs, keeping colons and slashes in the model name', () => {
    expect(parseModelSpec('openai:llama3.1:8b@http://localhost:11434/v1/')).toEqual({
      provider: 'openai',
      spec: 'openai:llama3.1:8b@http://localhost:11434/v1/',
      model: 'llama3.1:8b',
      baseUrl: 'http://localhost:11434/v1',
    });
    expect(parseModelSpec('openai:meta-llama/Llama-3.1-8B-Instruct@https://vllm.internal:8000/v1')).toMatchObject({
      model: 'meta-llama/Llama-3.1-8B-Instruct',
      baseUrl: 'https://vllm.internal:8000/v1',
    });
  });

  it('parses replay specs', () => {
    expect(parseModelSpec('replay:demo/scripts/rate-limit.json')).toEqual({
      provider: 'replay',
      spec: 'replay:demo/scripts/rate-limit.json',
      path: 'demo/scripts/rate-limit.json',
    });
  });

  it.each([
    ['', 'empty'],
    ['claude-sonnet', 'no provider prefix'],
    ['anthropic:claude-3', 'unknown provider "anthropic"'],
    ['bedrock:', 'needs a model id'],
    ['bedrock:has space', 'whitespace'],
    ['bedrock:arn:aws:bedrock:nowhere', 'a Bedrock ARN looks like'],
    ['openai:llama3.1', 'base URL is missing'],
    ['openai:@http://localhost:11434/v1', 'model name before "@" is empty'],
    ['openai:llama@localhost:11434', 'must be http:// or https://'],
    ['openai:llama@not a url', 'whitespace'],
    ['openai:llama@http://localhost:11434/v1?key=1', 'query string'],
    ['replay:', 'needs a file path'],
  ])('rejects %j (%s) and says which forms are valid', (spec, reason) => {
    let error: unknown;
    try {
      parseModelSpec(spec);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidModelSpecError);
    const message = (error as Error).message;
    expect(message).toContain(reason);
    expect(message).toContain('bedrock:<modelId');
    expect(message).toContain('openai:<model>@<baseUrl>');
    expect(message).toContain('replay:<path');
  });

  it('accepts only specs the settings schema accepts, so config and runtime never disagree', () => {
    const token = fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9._:/@-]{0,30}$/);
    const candidate = fc.oneof(
      token.map((t) => `bedrock:${t}`),
      fc.tuple(token, token).map(([m, h]) => `openai:${m}@http://${h}`),
      token.map((t) => `replay:${t}`),
      fc.string(),
    );
    fc.assert(
      fc.property(candidate, (spec) => {
        let accepted = true;
        try {
          parseModelSpec(spec);
        } catch (e) {
          if (!(e instanceof InvalidModelSpecError)) throw e;
          accepted = false;
        }
        if (accepted) expect(ModelSpecSchema.safeParse(spec).success).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseModelPolicy', () => {
  it('reads a comma-separated list such as CAHOOTS_MODEL', () => {
    expect(parseModelPolicy(' bedrock:amazon.nova-lite-v1:0 , openai:qwen2.5-coder@http://127.0.0.1:8080/v1')).toEqual([
      'bedrock:amazon.nova-lite-v1:0',
      'openai:qwen2.5-coder@http://127.0.0.1:8080/v1',
    ]);
    expect(parseModelPolicy('')).toBeUndefined();
    expect(parseModelPolicy(undefined)).toBeUndefined();
    expect(() => parseModelPolicy('bedrock:x,gpt-4')).toThrow(InvalidModelSpecError);
  });
});

describe('isLocalBaseUrl', () => {
  it('knows loopback hosts from remote ones', () => {
    expect(isLocalBaseUrl('http://localhost:11434/v1')).toBe(true);
    expect(isLocalBaseUrl('http://127.0.0.1:8080/v1')).toBe(true);
    expect(isLocalBaseUrl('http://[::1]:1234/v1')).toBe(true);
    expect(isLocalBaseUrl('https://api.openai.com/v1')).toBe(false);
    expect(isLocalBaseUrl('http://localhost.evil.example/v1')).toBe(false);
  });
});

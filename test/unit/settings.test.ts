import { describe, expect, it } from 'vitest';
import { ModelPolicySchema, ModelSpecSchema } from '../../lib/domain/settings';

describe('model spec shape', () => {
  it.each(['bedrock:anthropic.claude-3-haiku-20240307-v1:0', 'openai:llama3.1@http://localhost:11434/v1', 'replay:./turns.json'])(
    'accepts %s',
    (spec) => expect(ModelSpecSchema.parse(spec)).toBe(spec),
  );

  it.each(['gpt-4', 'openai:llama3', 'bedrock:', 'ftp:x'])('refuses %s with a message naming the forms', (spec) => {
    const result = ModelSpecSchema.safeParse(spec);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message ?? '').toMatch(/bedrock:<modelId>/);
  });

  it('refuses an unknown role in a model policy', () => {
    expect(ModelPolicySchema.safeParse({ wizard: ['replay:x'] }).success).toBe(false);
  });
});

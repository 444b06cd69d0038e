// MODEL_TIMEOUT_SECONDS: how long one model call may take before the gateway counts it as a
// retryable timeout. Unset it keeps the gateway's default; a bad value names the variable.
import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMEOUT_MS } from '../../lib/models/index';
import { readRuntimeConfig, RuntimeConfigError } from '../../lib/runtime';

describe('MODEL_TIMEOUT_SECONDS', () => {
  it('defaults to the gateway timeout and takes whole seconds', () => {
    expect(readRuntimeConfig({}).modelTimeoutSeconds * 1000).toBe(DEFAULT_TIMEOUT_MS);
    expect(readRuntimeConfig({ MODEL_TIMEOUT_SECONDS: '5' }).modelTimeoutSeconds).toBe(5);
  });

  it.each(['0', '901', '2.5', 'soon'])('refuses %s and names the variable', (value) => {
    expect(() => readRuntimeConfig({ MODEL_TIMEOUT_SECONDS: value })).toThrow(RuntimeConfigError);
    expect(() => readRuntimeConfig({ MODEL_TIMEOUT_SECONDS: value })).toThrow(/MODEL_TIMEOUT_SECONDS/);
  });
});

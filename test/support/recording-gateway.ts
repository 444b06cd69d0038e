// A model gateway for provider tests: jitter fixed by `random`, sleeps recorded instead of waited,
// every gateway event kept — so retries, backoff and fallbacks can be asserted exactly.
import { createModelGateway, type ModelGatewayEvent, type ModelGatewayOptions } from '../../lib/models/index';

export interface RecordingGatewayOptions extends Partial<Omit<ModelGatewayOptions, 'policy' | 'random'>> {
  policy: readonly string[];
  /** The jitter draw, fixed so backoff delays are predictable. */
  random: number;
}

export function recordingGateway({ policy, random, ...extra }: RecordingGatewayOptions) {
  const events: ModelGatewayEvent[] = [];
  const sleeps: number[] = [];
  const gw = createModelGateway({
    policy,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => random,
    onEvent: (event) => {
      events.push(event);
    },
    ...extra,
  });
  return { gw, events, sleeps };
}

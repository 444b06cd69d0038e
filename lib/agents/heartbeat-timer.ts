// Heartbeats from a timer, so a run keeps reporting while one turn takes long (a ten-minute test
// command, a slow model call) and not only between turns. Beats never overlap; a failed beat is
// logged and the next one tries again, because a timer has nobody to throw to.
import { logger } from '../powertools';

export interface HeartbeatTimer {
  /** Stops the timer and waits for a beat in flight. */
  stop(): Promise<void>;
}

export function startHeartbeatTimer(beat: () => void | Promise<void>, everyMs: number): HeartbeatTimer {
  let inFlight: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (inFlight) return;
    inFlight = Promise.resolve()
      .then(beat)
      .catch((error: unknown) => logger.warn('heartbeat failed; the next one will try again', { error: error as Error }))
      .finally(() => {
        inFlight = undefined;
      });
  }, Math.max(1, everyMs));
  // A pending heartbeat must not keep a finished process alive.
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}

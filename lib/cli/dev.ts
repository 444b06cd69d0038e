// `cahoots dev`: the deployed product on one machine — the HTTP API on 127.0.0.1 backed by the
// same handlers, plus the pipeline and agent workers — with state on disk in the data directory.
// At start it picks up goals a previous run left unfinished (lib/local/recovery.ts), and while it
// runs other `cahoots` commands find it through <data-dir>/dev.json.
import { join } from 'node:path';
import { EventEnvelopeSchema } from '../domain/events';
import { goalStream } from '../store/index';
import type { LocalRuntime } from '../local/runtime';
import { DEFAULT_DATA_DIR, lockDataDir, readDevServerInfo, removeDevServerInfo, resolveDataDir, writeDevServerInfo } from './data-dir';
import { EXIT, UsageError, type ExitCode } from './errors';
import { parseModels, parsePort, readRuntimeSettings } from './options';
import { Output } from './output';
import { checkModels } from './preflight';
import { GoalProgress } from './progress';

export interface DevFlags {
  port?: string;
  dataDir?: string;
  model?: string[];
}

export const DEFAULT_DEV_PORT = 8787;

export async function devCommand(flags: DevFlags, output = new Output()): Promise<ExitCode> {
  const port = parsePort(flags.port) ?? DEFAULT_DEV_PORT;
  const dataDir = resolveDataDir(flags.dataDir);
  const hasModels = (flags.model ?? []).length > 0 || (process.env.CAHOOTS_MODEL ?? '').trim() !== '';
  const models = hasModels ? parseModels(flags.model) : [];
  const config = await readRuntimeSettings();
  await checkModels(models);
  const running = readDevServerInfo(dataDir);
  if (running) throw new UsageError(`cahoots dev already serves ${dataDir} at ${running.url} (pid ${running.pid}); use it, or pass another --data-dir`, '--data-dir');
  const lock = lockDataDir(dataDir, 'cahoots dev');

  const { startLocalRuntime } = await import('../local/runtime');
  const { startLocalHttpServer } = await import('../local/http-server');
  const { recoverInterruptedGoals } = await import('../local/recovery');
  const { installLocalNotifications } = await import('../local/notifications');
  const { queueUrls: _fromEnv, ...runtimeConfig } = config;
  let local: LocalRuntime | undefined;
  let server: Awaited<ReturnType<typeof startLocalHttpServer>> | undefined;
  let serving = false;
  try {
    local = await startLocalRuntime({
      dataDir,
      config: {
        ...runtimeConfig,
        ...(models.length > 0 ? { defaultModels: models.map((m) => m.spec) } : {}),
        // Working copies next to the data, so a restarted task finds its goal's files again.
        workspaceRoot: runtimeConfig.workspaceRoot ?? join(dataDir, 'workspaces'),
      },
      onScheduledDetection: ({ projectId, at, error }) =>
        output.info(
          error === undefined
            ? `⏱ scheduled detection of ${projectId} started (${at.toISOString()})`
            : `⏱ scheduled detection of ${projectId} did not start: ${error instanceof Error ? error.message : String(error)}`,
        ),
    });
    try {
      server = await startLocalHttpServer({ port });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new UsageError(`--port ${port} is already in use on 127.0.0.1; pass another --port (0 picks a free one)`, '--port');
      throw error;
    }
    logEvents(local, output);
    // What a cell sends to its notification topic, printed here in the same words.
    const cliTarget = flags.dataDir === undefined || flags.dataDir === DEFAULT_DATA_DIR ? '' : ` --data-dir ${flags.dataDir}`;
    installLocalNotifications(local.bus, { apiUrl: server.url, cliTarget }, (notification) => {
      output.info(`🔔 ${notification.text.replace(/\n/g, '\n   ')}`);
    });
    output.info(`cahoots dev · API at ${server.url} · data in ${dataDir}`);
    output.info(models.length > 0 ? `models ${models.map((m) => m.spec).join(' → ')}` : 'no default model: set CAHOOTS_MODEL or --model, or give projects a modelPolicy');
    for (const goal of await recoverInterruptedGoals(local)) {
      output.info(
        goal.action === 'resumed'
          ? `↺ resumed ${goal.goalId} "${goal.title}" (was ${goal.from}${goal.requeuedTasks.length ? `; ${goal.requeuedTasks.length} task(s) back in the queue` : ''})`
          : `✖ ended ${goal.goalId} "${goal.title}" FAILED: ${goal.cause ?? 'cannot be resumed'}`,
      );
    }
    for (const scheduled of await local.startDetectionSchedules()) {
      output.info(`⏱ detection of ${scheduled.projectId}: ${scheduled.schedule.cron} ${scheduled.schedule.timezone}${scheduled.nextRunAt ? `, next at ${scheduled.nextRunAt.toISOString()}` : ', never again'}`);
    }
    serving = true;
    writeDevServerInfo(dataDir, { url: server.url, pid: process.pid });
    output.info(`Try: curl -sS ${server.url}/openapi.json · cahoots status · cahoots events <goalId> --follow`);
    output.info(`Stop with Ctrl-C; state stays in ${dataDir} and unfinished goals resume at the next start.`);
    await waitForSignal();
    output.info('Stopping…');
    return EXIT.ok;
  } finally {
    removeDevServerInfo(dataDir);
    await server?.close();
    await local?.stop();
    // A start that failed (a busy port …) leaves no new data directory behind.
    if (serving) lock.release();
    else lock.discard();
  }
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/**
 * One line per published event, prefixed with its goal. A goal first seen here (e.g. resumed after
 * a restart) has its earlier events read first, so task names and the running cost are right.
 */
function logEvents(local: LocalRuntime, output: Output): void {
  const chains = new Map<string, Promise<GoalProgress>>();
  local.bus.putRule('cahoots-dev-log', { source: ['cahoots'] }, async (envelope) => {
    const event = EventEnvelopeSchema.safeParse(envelope.detail);
    if (!event.success || !event.data.goalId) return;
    const { goalId, seq } = event.data;
    const previous =
      chains.get(goalId) ??
      (async () => {
        const progress = new GoalProgress((line) => output.info(`[${goalId.slice(-6)}] ${line}`));
        const earlier = await local.store.events.readEvents(goalStream(goalId), 0, 100);
        progress.prime(earlier.events.filter((e) => e.seq < seq));
        return progress;
      })();
    // Deliveries are concurrent; chaining per goal keeps its lines in order.
    const next = previous.then((progress) => {
      progress.handle([event.data]);
      return progress;
    });
    chains.set(goalId, next.catch(() => previous));
    await next;
  });
}

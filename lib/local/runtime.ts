// The local runtime: the whole product on one machine with no AWS account. dynalite stands in for
// DynamoDB, aws-local-stepfunctions runs statemachines/goal-pipeline.asl.json, in-process queues
// with SQS semantics feed the agent worker, an in-process bus takes the events. The handlers are
// the very ones deployed to Lambda, called in-process.
import { join, resolve } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { AGENT_ROLES, type AgentRole } from '../domain/settings';
import { localFunctionArn } from './lambda-context';
import { LocalEventBus } from './event-bus';
import { startDynalite, type DynaliteTransport, type LocalDynamo } from './dynalite';
import { createLocalPorts } from './ports';
import { LocalDetectionScheduler, type ScheduledDetection } from './detection-scheduler';
import { LocalDetectionStarter } from './detection-starter';
import type { AlarmReader, DetectionStarter } from '../ports/index';
import { LocalQueueConsumer, type SqsHandler } from './queue-consumer';
import { LocalQueues } from './queues';
import { LocalStateMachineRunner, type ExecutionHistoryEvent, type LambdaHandler } from './state-machine-runner';
import { publishPendingEvents } from '../pipeline/events';
import { logger } from '../powertools';
import { PIPELINE_STEPS, pipelineSubstitutions, readGoalPipelineDefinition, type PipelineStepName } from '../pipeline/definition';
import { DETECT_WORK_NAME, DETECT_WORK_STEPS, detectWorkSubstitutions, readDetectWorkDefinition, type DetectWorkStepName } from '../detection/definition';
import { parseRuntimeConfig, setRuntime, type Runtime, type RuntimeConfigInput } from '../runtime';
import { createStore, type Store } from '../store/index';
import { defaultWorkspaceRoot } from '../workspace/git';

/** Names the table the same in every local run, so state on disk is found again. */
export const LOCAL_TABLE_NAME = 'cahoots';

export const DEFAULT_LOCAL_AGENT_CONCURRENCY: Readonly<Record<AgentRole, number>> = {
  planner: 1,
  developer: 3,
  ux: 2,
  qa: 2,
  reviewer: 2,
};

export interface LocalRuntimeOptions {
  /**
   * Keeps the table, artifacts and (unless `config.workspaceRoot` says otherwise) the workspace
   * under this directory across restarts; memory only when absent.
   */
  dataDir?: string;
  /** Runtime settings (models, timeouts, workspace root); queue URLs are filled in here. */
  config?: Omit<RuntimeConfigInput, 'queueUrls'>;
  /** Agent handlers running at once per role. */
  agentConcurrency?: Partial<Record<AgentRole, number>>;
  /** How many times an agent message is received before it goes to its dead-letter queue. */
  maxReceiveCount?: number;
  /** Seconds a received agent message stays invisible (SQS visibility timeout). */
  visibilityTimeoutSeconds?: number;
  /** Every state-machine history event, e.g. for progress output. */
  onExecutionEvent?: (event: ExecutionHistoryEvent) => void;
  /** Milliseconds to pause before retries, per state; tests pass 0. */
  retryIntervalOverrides?: Record<string, number | number[]>;
  /** What starts DetectWork runs (schedules, the API, `cahoots detect`); the local DetectWork runner when absent. */
  detection?: DetectionStarter;
  /** Told about every scheduled detection (cahoots dev prints it). */
  onScheduledDetection?: (event: { projectId: string; at: Date; error?: unknown }) => void;
  /** How the store reaches dynalite; in-process unless a measurement asks for the loopback socket. */
  dynamoTransport?: DynaliteTransport;
  /** CloudWatch alarms for the alarm detector; none locally (the detector reports itself skipped) unless a test injects a reader. */
  alarms?: AlarmReader;
}

export interface LocalRuntime {
  runtime: Runtime;
  store: Store;
  runner: LocalStateMachineRunner;
  /** Runs statemachines/detect-work.asl.json. */
  detectionRunner: LocalStateMachineRunner;
  queues: LocalQueues;
  bus: LocalEventBus;
  dynamo: LocalDynamo;
  /** Projects' detection schedules; API changes reach it through the `schedules` port. */
  scheduler: LocalDetectionScheduler;
  /**
   * Reads every stored project's schedule and starts firing them (cahoots dev). A one-off run never
   * calls it, so it starts no detections of the projects it finds in its data directory.
   */
  startDetectionSchedules(): Promise<ScheduledDetection[]>;
  /** Stops the workers and executions, then the database. Safe to call twice. */
  stop(): Promise<void>;
}

type Handlers = {
  pipeline: Record<PipelineStepName, LambdaHandler>;
  detection: Record<DetectWorkStepName, LambdaHandler>;
  agentWorker: SqsHandler;
};

// Imported on demand: the handlers pull in the whole agent stack, which a caller that only
// inspects the store (cahoots status) should not pay for.
async function loadHandlers(): Promise<Handlers> {
  const entries = await Promise.all(
    (Object.entries(PIPELINE_STEPS) as [PipelineStepName, string][]).map(async ([step, file]) => {
      const module = (await import(/* @vite-ignore */ `../../functions/pipeline/${file}`)) as { handler: LambdaHandler };
      return [step, module.handler] as const;
    }),
  );
  const detection = await Promise.all(
    (Object.entries(DETECT_WORK_STEPS) as [DetectWorkStepName, string][]).map(async ([step, file]) => {
      const module = (await import(/* @vite-ignore */ `../../functions/detection/${file}`)) as { handler: LambdaHandler };
      return [step, module.handler] as const;
    }),
  );
  const worker = (await import('../../functions/agents/agent-worker')) as { handler: SqsHandler };
  return {
    pipeline: Object.fromEntries(entries) as Record<PipelineStepName, LambdaHandler>,
    detection: Object.fromEntries(detection) as Record<DetectWorkStepName, LambdaHandler>,
    agentWorker: worker.handler,
  };
}

export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const dataDir = options.dataDir ? resolve(options.dataDir) : undefined;
  const dynamo = await startDynalite({
    tableName: LOCAL_TABLE_NAME,
    ...(dataDir ? { path: join(dataDir, 'dynamodb') } : {}),
    ...(options.dynamoTransport ? { transport: options.dynamoTransport } : {}),
  });
  // Without a data directory the artifacts go to a scratch directory that stop() removes.
  let removeScratch: (() => Promise<void>) | undefined;
  try {
    const store = createStore(dynamo.store);
    const queues = new LocalQueues();
    const visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? 900;
    const queueUrls: Partial<Record<AgentRole, string>> = {};
    for (const role of AGENT_ROLES) {
      queues.createQueue(`${role}-dlq`);
      queueUrls[role] = queues.createQueue(role, {
        visibilityTimeoutSeconds,
        maxReceiveCount: options.maxReceiveCount ?? 3,
        deadLetterQueue: `${role}-dlq`,
      });
    }
    // Mirrors and working copies next to the data, so a restarted task finds its goal's files again.
    const workspaceRoot = options.config?.workspaceRoot ?? (dataDir ? join(dataDir, 'workspaces') : defaultWorkspaceRoot());
    const config = parseRuntimeConfig({ ...options.config, workspaceRoot, queueUrls });
    const handlers = await loadHandlers();
    // Work still running when the runtime stops (a step of an aborted execution, an outbox sweep)
    // must finish before the database closes, or its next write finds no database.
    const inFlight = new Set<Promise<unknown>>();
    const track = <T>(work: Promise<T>): Promise<T> => {
      inFlight.add(work);
      work.then(
        () => inFlight.delete(work),
        () => inFlight.delete(work),
      );
      return work;
    };
    const functions: Record<string, LambdaHandler> = {};
    for (const step of Object.keys(PIPELINE_STEPS) as PipelineStepName[]) {
      const handler = handlers.pipeline[step];
      functions[localFunctionArn(step)] = (event, context) => track(Promise.resolve(handler(event, context)));
    }
    const runner = new LocalStateMachineRunner({
      definition: readGoalPipelineDefinition(),
      definitionSubstitutions: pipelineSubstitutions((step) => localFunctionArn(step)),
      stateMachineName: 'goal-pipeline',
      functions,
      queues,
      ...(options.onExecutionEvent ? { onEvent: options.onExecutionEvent } : {}),
      ...(options.retryIntervalOverrides ? { retryIntervalOverrides: options.retryIntervalOverrides } : {}),
      lambdaTimeoutSeconds: 900,
    });
    // DetectWork's steps get their own local names: goal-pipeline and detect-work are separate machines.
    const detectionArn = (step: DetectWorkStepName) => localFunctionArn(`detection-${step}`);
    const detectionFunctions: Record<string, LambdaHandler> = {};
    for (const step of Object.keys(DETECT_WORK_STEPS) as DetectWorkStepName[]) {
      const handler = handlers.detection[step];
      detectionFunctions[detectionArn(step)] = (event, context) => track(Promise.resolve(handler(event, context)));
    }
    const detectionRunner = new LocalStateMachineRunner({
      definition: readDetectWorkDefinition(),
      definitionSubstitutions: detectWorkSubstitutions(detectionArn),
      stateMachineName: DETECT_WORK_NAME,
      functions: detectionFunctions,
      ...(options.onExecutionEvent ? { onEvent: options.onExecutionEvent } : {}),
      ...(options.retryIntervalOverrides ? { retryIntervalOverrides: options.retryIntervalOverrides } : {}),
      lambdaTimeoutSeconds: 900,
    });
    const bus = new LocalEventBus();
    // Without a data directory nothing outlives the process, checkpoints included.
    const scratchArtifacts = dataDir ? undefined : await mkdtemp(join(tmpdir(), 'cahoots-artifacts-'));
    removeScratch = scratchArtifacts ? () => rm(scratchArtifacts, { recursive: true, force: true }) : undefined;
    const artifactsDir = scratchArtifacts ?? join(dataDir!, 'artifacts');
    // DetectWork runs here unless the caller hands in its own starter (tests of the scheduler).
    const detection: DetectionStarter = options.detection ?? new LocalDetectionStarter(detectionRunner);
    const scheduler = new LocalDetectionScheduler({
      start: (request) => detection.startDetection(request),
      ...(options.onScheduledDetection ? { onFire: options.onScheduledDetection } : {}),
    });
    const ports = createLocalPorts({ runner, detection, queues, bus, artifactsDir, workspaceRoot, sandboxNetwork: config.sandboxNetwork, installNetwork: config.installNetwork, schedules: scheduler, ...(options.alarms ? { alarms: options.alarms } : {}) });
    const runtime: Runtime = { store, ports, config };
    setRuntime(runtime);

    const consumers = AGENT_ROLES.map((role) => {
      const consumer = new LocalQueueConsumer({
        queues,
        queue: role,
        handler: handlers.agentWorker,
        batchSize: 1,
        concurrency: options.agentConcurrency?.[role] ?? DEFAULT_LOCAL_AGENT_CONCURRENCY[role],
        functionName: `agent-${role}`,
        timeoutSeconds: config.taskTimeoutSeconds,
      });
      consumer.start();
      return consumer;
    });

    // The outbox sweep, as the cell's scheduled Lambda does it: events whose publication failed,
    // or that were appended without publishing (the API's), reach the bus within a second.
    const sweep = setInterval(() => {
      track(publishPendingEvents(runtime)).catch((error: unknown) => logger.warn('outbox sweep failed', { error: error as Error }));
    }, 1_000);
    sweep.unref();

    let stopped: Promise<void> | undefined;
    return {
      runtime,
      store,
      runner,
      detectionRunner,
      queues,
      bus,
      dynamo,
      scheduler,
      async startDetectionSchedules() {
        let cursor: string | undefined;
        do {
          const page = await store.projects.list({ limit: 100, ...(cursor ? { cursor } : {}) });
          for (const project of page.items) {
            try {
              await scheduler.upsert(project.id, project.schedule);
            } catch (error) {
              // Stored before the expression rules were as strict; the others still run.
              logger.warn('a project schedule cannot be evaluated; it does not fire', { projectId: project.id, error: error as Error });
            }
          }
          cursor = page.cursor;
        } while (cursor);
        scheduler.start();
        return scheduler.list();
      },
      stop() {
        stopped ??= (async () => {
          clearInterval(sweep);
          await scheduler.stop();
          await runner.stopAll('the local runtime is shutting down');
          await detectionRunner.stopAll('the local runtime is shutting down');
          await Promise.all(consumers.map((c) => c.stop()));
          await Promise.allSettled([...inFlight]);
          await bus.idle();
          setRuntime(undefined);
          await dynamo.stop();
          await removeScratch?.();
        })();
        return stopped;
      },
    };
  } catch (error) {
    await dynamo.stop();
    await removeScratch?.();
    throw error;
  }
}

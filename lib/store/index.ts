// Public surface of the store: one `createStore` that wires every repository to one client and
// table, plus the pieces callers need directly (errors, paging types, retry helper, keys).
import { AgentRunRepository } from './agent-runs';
import { defaultStoreConfig, type StoreConfig } from './config';
import { EventLog } from './event-log';
import { FindingRepository } from './findings';
import { GoalRepository } from './goals';
import { IdempotencyRepository, type IdempotencyOptions } from './idempotency';
import { InfrastructureUsageRepository } from './infrastructure-usage';
import { LessonRepository } from './lessons';
import { ProjectRepository } from './projects';
import type { RetryOptions } from './retry';
import { RoutingStatsRepository } from './routing-stats';
import { TaskRepository } from './tasks';
import { UsageRepository } from './usage';

export interface Store {
  config: StoreConfig;
  projects: ProjectRepository;
  goals: GoalRepository;
  tasks: TaskRepository;
  events: EventLog;
  agentRuns: AgentRunRepository;
  lessons: LessonRepository;
  findings: FindingRepository;
  usage: UsageRepository;
  infrastructureUsage: InfrastructureUsageRepository;
  idempotency: IdempotencyRepository;
  routingStats: RoutingStatsRepository;
}

export interface StoreOptions {
  /** Read-modify-write retries for optimistic updates. */
  retry?: RetryOptions;
  /** Retries for event appends racing for the stream head. */
  appendRetry?: RetryOptions;
  idempotency?: IdempotencyOptions;
}

/** All repositories over one table. Without a config, the process-wide default client and TABLE_NAME. */
export function createStore(config: StoreConfig = defaultStoreConfig(), options: StoreOptions = {}): Store {
  return {
    config,
    projects: new ProjectRepository(config, options.retry),
    goals: new GoalRepository(config, options.retry),
    tasks: new TaskRepository(config, options.retry),
    events: new EventLog(config, options.appendRetry),
    agentRuns: new AgentRunRepository(config),
    lessons: new LessonRepository(config),
    findings: new FindingRepository(config, options.retry),
    usage: new UsageRepository(config),
    infrastructureUsage: new InfrastructureUsageRepository(config),
    idempotency: new IdempotencyRepository(config, options.idempotency),
    routingStats: new RoutingStatsRepository(config),
  };
}

export { AgentRunRepository } from './agent-runs';
export { currentInvocationMeter, meterInvocationUsage, newInvocationMeter, type InvocationMeter } from './invocation-meter';
export { InfrastructureUsageRepository, WRITE_UNITS_PER_RECORDING } from './infrastructure-usage';
export { defaultStoreConfig, documentClientFor, TABLE_NAME_ENV, type StoreConfig } from './config';
export { createTable, createTableInput } from './create-table';
export { decodeCursor, encodeCursor } from './cursor';
export * from './errors';
export { EventLog, goalStream, projectStream, type AppendResult, type EventStream, type ReadEventsResult, type UnpublishedEvent } from './event-log';
export { FindingRepository, type FindingChanges, type FindingListRequest } from './findings';
export { GoalRepository, type GoalChanges, type GoalListRequest } from './goals';
export { IdempotencyRepository, type IdempotencyBegin, type IdempotencyOptions } from './idempotency';
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type Page, type PageRequest } from './items';
export { LessonRepository } from './lessons';
export { ProjectRepository, type ProjectChanges } from './projects';
export { backoffDelay, DEFAULT_RETRY, updateWithRetry, type RetryOptions } from './retry';
export { RoutingStatsRepository } from './routing-stats';
export { TaskRepository, type ClaimResult, type TaskChanges } from './tasks';
export { UsageRepository, type UsageSummary } from './usage';

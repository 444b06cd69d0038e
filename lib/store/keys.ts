// The single table's key design, in one place. Every item's PK/SK and index keys are built here;
// nothing else concatenates key strings. See docs/domain.md for the full table.
//
//   item              PK                              SK                                GSI1 (PK / SK)                                         GSI2 (PK / SK)
//   project           PROJECT#<pid>                   PROJECT                           –                                                      PROJECTS / <createdAt>#<pid>
//   goal              GOAL#<gid>                      GOAL                              PROJECT#<pid>#GOALSTATUS#<status> / <createdAt>#<gid>   PROJECT#<pid>#GOALS / <createdAt>#<gid>
//   task              GOAL#<gid>                      TASK#<taskId>                     –                                                      –
//   agent run         GOAL#<gid>                      RUN#<taskId>#<runId>              –                                                      –
//   goal event        GOAL#<gid>                      EVT#<seq, 10 digits>              OUTBOX / <at>#<PK>#<seq>  (until published)            –
//   goal event marker GOAL#<gid>                      EVTID#<eventId>                   –                                                      –
//   project event     PROJECT#<pid>                   EVT#<seq>                         OUTBOX / …                                             –
//   project ev.marker PROJECT#<pid>                   EVTID#<eventId>                   –                                                      –
//   usage             PROJECT#<pid>                   USAGE#<yyyy-mm-dd>#<model>        –                                                      –
//   lesson            PROJECT#<pid>                   LESSON#<lessonId>                 –                                                      –
//   finding           PROJECT#<pid>                   FINDING#<fingerprint>             PROJECT#<pid>#FINDINGSTATUS#<status> / <score>#<fp>     –
//   idempotency       IDEMPOTENCY#<scope>#<key>       IDEMPOTENCY                       –                                                      –  (TTL expiresAt)
//   repository link   REPO#<host/owner/name>          PROJECT#<pid>                     –                                                      –
//
// Tasks need no index: a goal has at most a few dozen, read in one Query on its partition.
import type { FindingStatus, Status } from '../domain/status';

export interface TableKey {
  PK: string;
  SK: string;
  [key: string]: string;
}

export const SEQ_WIDTH = 10;
export const MAX_SEQ = 10 ** SEQ_WIDTH - 1;

/** Zero-padded so sort keys order numerically. */
export function padSeq(seq: number): string {
  return String(seq).padStart(SEQ_WIDTH, '0');
}

export const PREFIX = {
  task: 'TASK#',
  run: 'RUN#',
  event: 'EVT#',
  eventMarker: 'EVTID#',
  usage: 'USAGE#',
  lesson: 'LESSON#',
  finding: 'FINDING#',
  routing: 'ROUTING#',
  infrastructure: 'INFRA#',
} as const;

export const PROJECTS_INDEX_PK = 'PROJECTS';
export const OUTBOX_INDEX_PK = 'OUTBOX';

// ---- projects
export const projectPk = (projectId: string) => `PROJECT#${projectId}`;
export const projectKey = (projectId: string): TableKey => ({ PK: projectPk(projectId), SK: 'PROJECT' });
export const projectIndexKeys = (p: { id: string; createdAt: string }) => ({
  GSI2PK: PROJECTS_INDEX_PK,
  GSI2SK: `${p.createdAt}#${p.id}`,
});

/**
 * Which projects work on a repository (the GitHub webhook asks): one item per project under the
 * repository's address (see repositoryAddress), so a Query on the partition answers without an
 * index, and each project's link is a single-item write of its own.
 */
export const repositoryPk = (address: string) => `REPO#${address}`;
export const repositoryLinkKey = (address: string, projectId: string): TableKey => ({ PK: repositoryPk(address), SK: projectPk(projectId) });

// ---- goals
export const goalPk = (goalId: string) => `GOAL#${goalId}`;
export const goalKey = (goalId: string): TableKey => ({ PK: goalPk(goalId), SK: 'GOAL' });
export const goalsByStatusPk = (projectId: string, status: Status) => `PROJECT#${projectId}#GOALSTATUS#${status}`;
export const goalsOfProjectPk = (projectId: string) => `PROJECT#${projectId}#GOALS`;
export const goalIndexKeys = (g: { id: string; projectId: string; status: Status; createdAt: string }) => ({
  GSI1PK: goalsByStatusPk(g.projectId, g.status),
  GSI1SK: `${g.createdAt}#${g.id}`,
  GSI2PK: goalsOfProjectPk(g.projectId),
  GSI2SK: `${g.createdAt}#${g.id}`,
});

// ---- tasks and agent runs (live in their goal's partition)
export const taskKey = (goalId: string, taskId: string): TableKey => ({ PK: goalPk(goalId), SK: `${PREFIX.task}${taskId}` });
export const agentRunKey = (goalId: string, taskId: string, runId: string): TableKey => ({
  PK: goalPk(goalId),
  SK: `${PREFIX.run}${taskId}#${runId}`,
});
export const agentRunTaskPrefix = (taskId: string) => `${PREFIX.run}${taskId}#`;

// ---- event streams
export type EventStream = { kind: 'goal'; goalId: string } | { kind: 'project'; projectId: string };
export const goalStream = (goalId: string): EventStream => ({ kind: 'goal', goalId });
export const projectStream = (projectId: string): EventStream => ({ kind: 'project', projectId });
export const streamPk = (s: EventStream) => (s.kind === 'goal' ? goalPk(s.goalId) : projectPk(s.projectId));
export const eventKey = (s: EventStream, seq: number): TableKey => ({ PK: streamPk(s), SK: `${PREFIX.event}${padSeq(seq)}` });
export const eventMarkerKey = (s: EventStream, eventId: string): TableKey => ({ PK: streamPk(s), SK: `${PREFIX.eventMarker}${eventId}` });
/** Key condition values for the events fromSeq..toSeq (inclusive) of a stream. */
export const EVENT_SEQ_RANGE = 'PK = :pk AND SK BETWEEN :from AND :to';
export const eventSeqRange = (s: EventStream, fromSeq: number, toSeq: number) => ({
  ':pk': streamPk(s),
  ':from': `${PREFIX.event}${padSeq(fromSeq)}`,
  ':to': `${PREFIX.event}${padSeq(toSeq)}`,
});
/** Sparse outbox index entry; removed when the publisher marks the event published. */
export const outboxIndexKeys = (s: EventStream, seq: number, at: string) => ({
  GSI1PK: OUTBOX_INDEX_PK,
  GSI1SK: `${at}#${streamPk(s)}#${padSeq(seq)}`,
});

// ---- usage
export const usageKey = (projectId: string, day: string, model: string): TableKey => ({
  PK: projectPk(projectId),
  SK: `${PREFIX.usage}${day}#${model}`,
});
/** A goal's infrastructure usage counters (lib/store/infrastructure-usage.ts). */
export const goalInfrastructureKey = (goalId: string): TableKey => ({ PK: goalPk(goalId), SK: 'INFRA' });
/** A project's infrastructure usage counters of one UTC day. */
export const projectInfrastructureKey = (projectId: string, day: string): TableKey => ({ PK: projectPk(projectId), SK: `${PREFIX.infrastructure}${day}` });
/** Inclusive SK bounds for days `from`..`to`: `$` sorts right after `#`, before the next day. */
export const usageRange = (fromDay: string, toDay: string) => ({
  from: `${PREFIX.usage}${fromDay}#`,
  to: `${PREFIX.usage}${toDay}$`,
});

// ---- routing statistics (role × task kind × model, per project)
export const routingStatKey = (projectId: string, role: string, kind: string, model: string): TableKey => ({
  PK: projectPk(projectId),
  SK: `${PREFIX.routing}${role}#${kind}#${model}`,
});

// ---- lessons
export const lessonKey = (projectId: string, lessonId: string): TableKey => ({ PK: projectPk(projectId), SK: `${PREFIX.lesson}${lessonId}` });

// ---- findings
export const findingKey = (projectId: string, fingerprint: string): TableKey => ({
  PK: projectPk(projectId),
  SK: `${PREFIX.finding}${fingerprint}`,
});
export const findingsByStatusPk = (projectId: string, status: FindingStatus) => `PROJECT#${projectId}#FINDINGSTATUS#${status}`;
/** Score as fixed-width milli-points so the index sorts by score; queried newest-first = best-first. */
export const findingIndexKeys = (f: { projectId: string; status: FindingStatus; score: number; fingerprint: string }) => ({
  GSI1PK: findingsByStatusPk(f.projectId, f.status),
  GSI1SK: `${String(Math.round(f.score * 1000)).padStart(7, '0')}#${f.fingerprint}`,
});

// ---- idempotency records
export const idempotencyKey = (scope: string, key: string): TableKey => ({ PK: `IDEMPOTENCY#${scope}#${key}`, SK: 'IDEMPOTENCY' });

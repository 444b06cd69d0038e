// Work detection behind the API: list a project's findings (by status, detector, severity, kind), run
// detection now, dismiss or reopen a finding, and turn one into a goal.
import { findingId, type Actor, type Finding, type FindingKind, type FindingStatus, type KnownDetector, type Severity } from '../domain/index';
import { FindingNotActionableError, startGoalForFinding } from '../detection/goals';
import { projectStream, type Page } from '../store/index';
import type { ApiDependencies } from './dependencies';
import { ApiError } from './errors';
import { toPublicGoal } from './goals';
import type { DetectionStarted, FindingGoalBody, FindingResponse, PublicGoal, UpdateFindingBody } from './schemas';

export function toFindingResponse(finding: Finding): FindingResponse {
  return { ...finding, id: findingId(finding.projectId, finding.fingerprint) };
}

export async function listFindings(
  deps: ApiDependencies,
  projectId: string,
  query: { status?: FindingStatus; detector?: KnownDetector; severity?: Severity; kind?: FindingKind; limit?: number; cursor?: string },
): Promise<Page<FindingResponse>> {
  // An unknown project is a 404, not an empty list that would hide a mistyped id.
  await deps.store.projects.get(projectId);
  const page = await deps.store.findings.list(projectId, query);
  return { ...page, items: page.items.map(toFindingResponse) };
}

/** Where detection cannot be started (a CLI working on a data directory without a runtime). */
export class DetectionUnavailableError extends ApiError {
  constructor() {
    super(503, 'DetectionUnavailable', 'work detection cannot be started here: no DetectWork state machine is configured');
  }
}

export async function startDetection(deps: ApiDependencies, projectId: string): Promise<DetectionStarted> {
  await deps.store.projects.get(projectId);
  if (!deps.detection) throw new DetectionUnavailableError();
  const { executionId } = await deps.detection.startDetection({ projectId, trigger: 'manual' });
  return { projectId, trigger: 'manual', executionId };
}

export async function updateFinding(
  deps: ApiDependencies,
  id: { projectId: string; fingerprint: string },
  body: UpdateFindingBody,
  actor: Actor,
): Promise<FindingResponse> {
  const current = await deps.store.findings.get(id.projectId, id.fingerprint);
  if (current.status === body.status) return toFindingResponse(current);
  const updated = await deps.store.findings.update(current, { status: body.status });
  await deps.store.events.append(projectStream(updated.projectId), {
    type: body.status === 'dismissed' ? 'Finding.Dismissed' : 'Finding.Reopened',
    actor,
    correlationId: updated.fingerprint,
    projectId: updated.projectId,
    data: { fingerprint: updated.fingerprint, detector: updated.detector, title: updated.title, from: current.status, ...(body.reason ? { reason: body.reason } : {}) },
  });
  return toFindingResponse(updated);
}

export async function createGoalFromFinding(
  deps: ApiDependencies,
  id: { projectId: string; fingerprint: string },
  body: FindingGoalBody,
  actor: Actor,
): Promise<PublicGoal> {
  const finding = await deps.store.findings.get(id.projectId, id.fingerprint);
  try {
    const goal = await startGoalForFinding({ store: deps.store, pipeline: deps.pipeline }, finding, {
      actor,
      // One goal per finding and status change: asking twice returns the same goal.
      attempt: `api:${finding.version}`,
      ...(body.autonomyOverride !== undefined ? { autonomyOverride: body.autonomyOverride } : {}),
    });
    return toPublicGoal(goal);
  } catch (error) {
    if (error instanceof FindingNotActionableError) throw new ApiError(409, 'FindingNotOpen', error.message);
    throw error;
  }
}

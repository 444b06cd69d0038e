// Findings of work detection for a project, one page at a time, optionally in one status.
import type { Finding, FindingStatus } from '../domain/index';
import type { Page } from '../store/index';
import type { ApiDependencies } from './dependencies';

export async function listFindings(
  deps: ApiDependencies,
  projectId: string,
  query: { status?: FindingStatus; limit?: number; cursor?: string },
): Promise<Page<Finding>> {
  // An unknown project is a 404, not an empty list that would hide a mistyped id.
  await deps.store.projects.get(projectId);
  return deps.store.findings.list(projectId, { status: query.status, limit: query.limit, cursor: query.cursor });
}

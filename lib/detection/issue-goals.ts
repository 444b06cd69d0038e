// A goal the GitHub webhook starts for an issue is the work the issue detector would find on its
// next run. Filing the issue's finding now, in progress with that goal, is what keeps detection from
// starting a second goal for the same issue; when the goal fails or is cancelled, EndGoal reopens the
// finding like any finding's goal (lib/pipeline/goals.ts). Projects whose detection leaves out the
// issue detector get no finding: nothing would ever refresh or resolve it.
import type { Finding } from '../domain/finding';
import { issueOfUrl } from '../domain/issue-link';
import { detectionSettingsOf, type Project } from '../domain/project';
import type { Store } from '../store/index';
import { findingOfIssue, issuesDetector, type IssueFields } from './detectors/issues';
import { fileDetectedFinding } from './merge';

/**
 * Files (or refreshes) the issue's finding and marks it in progress with `goalId`. A finding already
 * in progress with another goal, or dismissed by a person, is left as it is. Undefined when the
 * project does not watch issues or the address names no issue.
 */
export async function recordIssueGoal(store: Store, project: Project, issue: IssueFields, goalId: string): Promise<Finding | undefined> {
  if (!detectionSettingsOf(project).detectors.includes('issue')) return undefined;
  const reference = issueOfUrl(issue.url);
  if (!reference) return undefined;
  const { finding } = await fileDetectedFinding(store, project.id, issuesDetector.name, findingOfIssue(reference.repository, issue));
  if (finding.status === 'in-progress' || finding.status === 'dismissed') return finding;
  if (finding.status === 'resolved') await store.findings.setStatus(project.id, finding.fingerprint, 'open');
  return store.findings.setStatus(project.id, finding.fingerprint, 'in-progress', goalId);
}

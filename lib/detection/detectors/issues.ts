// Open issues labelled for the team (the project's `issueLabel`) on the repository's host: each is
// work someone asked for. The fingerprint is the issue itself (`issue:<owner/repo>#<number>`), so
// retitling or editing an issue keeps its finding, and closing it resolves the finding on the next
// run (merge.ts). The GitHub webhook files the same finding when it starts a goal for an issue
// (issue-goals.ts). Hosts without issues (a local path, a plain git remote) skip the detector.
import { issueFingerprint, issueOfUrl } from '../../domain/issue-link';
import { issueLabelOf } from '../../domain/project';
import type { Severity } from '../../domain/finding';
import type { OpenIssue, OpenIssueListing } from '../../ports/index';
import { RepositoryHostError } from '../../ports/repository/errors';
import { redact } from '../../agents/redaction';
import { logger } from '../../powertools';
import { type Detector, type DetectedFinding, DetectorFailedError, excerpt } from '../types';

/** Lines of the body kept as evidence: enough to say what is asked, not the whole thread. */
const BODY_LINES = 20;

/**
 * Severity from the issue's labels, case-insensitively: `critical`, `security` or `p0` → critical;
 * `bug`, `high`, `p1` or `regression` → high; `low`, `p3`, `chore` or `documentation` → low;
 * otherwise medium. The highest match wins.
 */
const SEVERITY_LABELS: ReadonlyArray<readonly [Severity, readonly string[]]> = [
  ['critical', ['critical', 'security', 'p0']],
  ['high', ['bug', 'high', 'p1', 'regression']],
  ['low', ['low', 'p3', 'chore', 'documentation']],
];

export function severityOfLabels(labels: readonly string[]): Severity {
  const names = new Set(labels.map((label) => label.trim().toLowerCase()));
  for (const [severity, matches] of SEVERITY_LABELS) {
    if (matches.some((match) => names.has(match))) return severity;
  }
  return 'medium';
}

/** What a finding is made of: an issue as the host lists it, or as a webhook delivers it. */
export type IssueFields = Pick<OpenIssue, 'number' | 'title' | 'body' | 'url' | 'labels'>;

/**
 * `repository` is the project's `owner/name`; the issue's own address, which spells it as the host
 * does, wins, so the webhook and the detector agree whatever case the project's URL was typed in.
 */
export function findingOfIssue(repository: string, issue: IssueFields): DetectedFinding {
  const body = issue.body.split(/\r?\n/).slice(0, BODY_LINES).join('\n');
  return {
    fingerprint: issueFingerprint(issueOfUrl(issue.url) ?? { repository, number: issue.number }),
    title: excerpt(`#${issue.number} ${issue.title}`, 200),
    // Redacted here too: the detector's result is stored as an artifact before the merge redacts it.
    detail: excerpt(redact([issue.url, ...(issue.labels.length > 0 ? [`labels: ${issue.labels.join(', ')}`] : []), '', body].join('\n')), 3000),
    severity: severityOfLabels(issue.labels),
    // How big the work is, the issue does not say; planning (AssessGoal) sizes it.
    effort: 'small',
    // Someone asked for it by labelling it: real work, though not always well described.
    confidence: 0.9,
    location: { url: issue.url },
  };
}

export const issuesDetector: Detector = {
  name: 'issue',
  async detect(context) {
    const label = issueLabelOf(context.project);
    let listing: OpenIssueListing;
    try {
      listing = await context.repositories.listOpenIssues(context.project, label);
    } catch (error) {
      // Refused credentials or an API error: this run reports the detector failed, the others go on.
      if (error instanceof RepositoryHostError) throw new DetectorFailedError('issue', error.message);
      throw error;
    }
    if (!listing.supported) return { findings: [], skipped: listing.reason };
    if (listing.truncated) logger.warn('more labelled issues than one listing reads; the least recently updated are left out', { label, repository: listing.repository });
    return { findings: listing.issues.map((issue) => findingOfIssue(listing.repository, issue)) };
  },
};

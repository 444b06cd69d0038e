// A repository host's issue as its web address names it: `https://<host>/<owner>/<name>/issues/<n>`,
// or a comment's address on it (`…/issues/<n>#issuecomment-…`). GitHub spells these addresses the
// same way in webhook payloads and in REST answers, whatever case the project's own URL was typed in,
// so the webhook, the issue detector and the pipeline all derive the same issue from them.

export interface IssueReference {
  /** `owner/name` as the host spells it. */
  repository: string;
  number: number;
}

/** Owner and repository names are letters, digits, `.`, `_` and `-` on GitHub, so they fit a fingerprint as they are. */
const ISSUE_PATH = /^\/([A-Za-z0-9._-]{1,100})\/([A-Za-z0-9._-]{1,100})\/issues\/(\d{1,9})$/;

/** The issue an address names, or undefined when it names none (another page, not a URL at all). */
export function issueOfUrl(url: string | undefined): IssueReference | undefined {
  if (url === undefined || !URL.canParse(url)) return undefined;
  const match = ISSUE_PATH.exec(new URL(url).pathname);
  if (!match) return undefined;
  return { repository: `${match[1]}/${match[2]}`, number: Number(match[3]) };
}

/**
 * The fingerprint of the work an issue asks for: `issue:<owner>/<name>#<number>`. The issue itself,
 * not its text, so retitling or editing it keeps its finding.
 */
export function issueFingerprint(issue: IssueReference): string {
  return `issue:${issue.repository}#${issue.number}`;
}

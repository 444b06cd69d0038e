// Reading a project's findings whole, for the merge (what is no longer detected) and for the
// detectors' track records.
import type { Finding } from '../domain/finding';
import type { Store } from '../store/index';

/** Every finding of the project, all pages. */
export async function allFindings(store: Store, projectId: string): Promise<Finding[]> {
  const found: Finding[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.findings.list(projectId, { limit: 100, ...(cursor ? { cursor } : {}) });
    found.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return found;
}

// Reading a project's findings whole, for the merge (what is no longer detected), for the
// detectors' track records, and one detector's for the detector itself (the analyst's proposals).
import type { Finding } from '../domain/finding';
import type { Store } from '../store/index';

/** Every finding of the project (or of one detector), all pages. */
export async function allFindings(store: Store, projectId: string, filter: { detector?: string } = {}): Promise<Finding[]> {
  const found: Finding[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.findings.list(projectId, { limit: 100, ...filter, ...(cursor ? { cursor } : {}) });
    found.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return found;
}

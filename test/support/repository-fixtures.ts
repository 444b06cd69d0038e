// Fixtures the repository-port tests share: a stored project for a repository, a secrets port
// holding given values, and a byte-level search of a directory (the canaries' "never on disk").
import { execFileSync } from 'node:child_process';
import { DEFAULT_ISSUE_LABEL, type Project } from '../../lib/domain/project';
import { LocalSecrets, secretEnvName } from '../../lib/local/secrets';

/** A project as the store returns it, for `repo`; `overrides` replace any setting. */
export function storedProject(id: string, repo: Project['repo'], overrides: Partial<Project> = {}): Project {
  const now = new Date().toISOString();
  return {
    id,
    repo,
    name: 'Shop',
    team: { planner: 1, developer: 1, ux: 0, qa: 0, reviewer: 1 },
    autonomyLevel: 4,
    budgets: {},
    modelPolicy: {},
    schedule: { cron: 'cron(0 3 * * ? *)', timezone: 'UTC', enabled: false },
    allowedCommands: [],
    maxParallelTasks: 2,
    maxReworkRounds: 1,
    contextFiles: [],
    qaMayWriteTests: false,
    issueLabel: DEFAULT_ISSUE_LABEL,
    createdAt: now,
    updatedAt: now,
    version: 1,
    ...overrides,
  } as Project;
}

/** The local secrets port holding exactly these secrets. */
export const secretsWith = (values: Record<string, string>): LocalSecrets =>
  new LocalSecrets({ env: Object.fromEntries(Object.entries(values).map(([name, value]) => [secretEnvName(name), value])) });

/** Every file under `dir` whose bytes contain `needle` (grep -r, with the real binary). */
export function filesContaining(dir: string, needle: string): string[] {
  try {
    return execFileSync('grep', ['-rlF', needle, dir], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch (error) {
    if ((error as { status?: number }).status === 1) return [];
    throw error;
  }
}

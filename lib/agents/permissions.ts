// What each role may do with the working copy: which workspace tools it is offered, whether it may
// run commands and where it may write. One table, computed once when the module loads; the
// project's settings only choose a row of it.
import { AGENT_ROLES, type AgentRole } from '../domain/index';

/** What varies per project and shapes a role's prompt, tools and finish validation. */
export interface RoleSettings {
  /** Roles with at least one agent on the team (`staffedRoles(project.team)`); the planner may only plan these. */
  staffedRoles: readonly AgentRole[];
  /** The project's command allow-list; run_command is offered only when it is not empty. */
  allowedCommands: readonly string[];
  /** The project lets QA create and edit test files (and only those). Default false: QA reads and runs. */
  qaMayWriteTests: boolean;
}

export const DEFAULT_ROLE_SETTINGS: RoleSettings = Object.freeze({
  staffedRoles: AGENT_ROLES,
  allowedCommands: [],
  qaMayWriteTests: false,
});

/** Roles a plan may assign work to: staffed ones, never the planner itself. */
export function plannableRoles(settings: Pick<RoleSettings, 'staffedRoles'>): AgentRole[] {
  return settings.staffedRoles.filter((role) => role !== 'planner');
}

export const READ_ONLY_TOOLS = ['list_files', 'read_file', 'search_files'] as const;
export const WRITE_TOOLS = ['write_file', 'edit_file'] as const;

/** Where a role's write tools may write. */
export type WriteScope = 'none' | 'any' | 'test-files';

export interface ToolPermissions {
  /** Workspace tools offered to the role, before the finish tool. */
  readonly toolNames: readonly string[];
  readonly runCommands: boolean;
  readonly writeScope: WriteScope;
}

interface RoleRule {
  /** `tests-if-allowed`: test files only, and only where the project lets QA write tests. */
  write: 'never' | 'always' | 'tests-if-allowed';
  /** `allow-list`: whenever the project's allow-list is not empty. */
  run: 'never' | 'allow-list';
}

// The planner and the reviewer only read. QA runs the tests in the same quality-gate round as the
// review, so the reviewer needs no command tool of its own.
const ROLE_RULES: { readonly [R in AgentRole]: RoleRule } = {
  planner: { write: 'never', run: 'never' },
  developer: { write: 'always', run: 'allow-list' },
  ux: { write: 'always', run: 'allow-list' },
  qa: { write: 'tests-if-allowed', run: 'allow-list' },
  reviewer: { write: 'never', run: 'never' },
};

function permissionsOf(rule: RoleRule, hasCommands: boolean, qaMayWriteTests: boolean): ToolPermissions {
  const writeScope: WriteScope = rule.write === 'always' ? 'any' : rule.write === 'tests-if-allowed' && qaMayWriteTests ? 'test-files' : 'none';
  const runCommands = rule.run === 'allow-list' && hasCommands;
  return Object.freeze({
    toolNames: Object.freeze([...READ_ONLY_TOOLS, ...(writeScope === 'none' ? [] : WRITE_TOOLS), ...(runCommands ? ['run_command'] : [])]),
    runCommands,
    writeScope,
  });
}

const rowKey = (hasCommands: boolean, qaMayWriteTests: boolean) => `${hasCommands ? 'commands' : 'no-commands'}/${qaMayWriteTests ? 'qa-writes' : 'qa-reads'}`;

/** Every role × (allow-list empty or not) × (QA may write tests or not). */
const PERMISSION_TABLE: { readonly [R in AgentRole]: ReadonlyMap<string, ToolPermissions> } = Object.freeze(
  Object.fromEntries(
    AGENT_ROLES.map((role) => [
      role,
      new Map(
        [false, true].flatMap((hasCommands) =>
          [false, true].map((qaWrites) => [rowKey(hasCommands, qaWrites), permissionsOf(ROLE_RULES[role], hasCommands, qaWrites)] as const),
        ),
      ),
    ]),
  ) as unknown as { [R in AgentRole]: ReadonlyMap<string, ToolPermissions> },
);

/** The role's row of the permission table for these project settings. */
export function toolPermissions(role: AgentRole, settings: Pick<RoleSettings, 'allowedCommands' | 'qaMayWriteTests'>): ToolPermissions {
  return PERMISSION_TABLE[role].get(rowKey(settings.allowedCommands.length > 0, settings.qaMayWriteTests))!;
}

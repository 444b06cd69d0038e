// Git for the team without a git binary (isomorphic-git on node:fs): goal branches in the project
// repository, one working copy per task, commits, merges back into the goal branch, history.
//
// Working-copy design. isomorphic-git has no `git worktree`, and it does not read
// `objects/info/alternates` (it only looks in its own gitdir's loose objects and packs). So each
// task gets a directory with its *own* `.git` (own HEAD, index and refs, so parallel tasks never
// share an index) whose `objects` entry is a symlink to the project repository's object store.
// This is the layout of git's old `contrib/workdir/git-new-workdir`, minus its flaw of sharing
// refs: only content-addressed, immutable objects are shared. Consequences:
//   - nothing is copied, so a working copy costs one checkout, however big the history;
//   - a commit made in a task is immediately readable from the project repository, so publishing
//     the task branch is a one-line ref write and merging needs no object transfer;
//   - two writers of the same object write identical bytes; our fs client writes via temp file +
//     rename (see git-fs.ts), so no reader ever sees half an object;
//   - real git also understands the layout (`git -C <working copy> status` works).
// Refs in the project repository are only ever changed under a ref lock (refs.ts). The project's
// own HEAD, index and working tree are never touched, so a person can keep working in it.
//
// Branch names. Git stores `refs/heads/a/b` as a file, so `cahoots/<goal>` and
// `cahoots/<goal>/<task>` cannot both exist. The goal branch is `cahoots/<goalId>` (the name a
// person sees in the pull request); task branches live in their own namespace,
// `cahoots-task/<goalId>/<taskId>`, which cannot collide with any goal branch.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { defaultWorkspaceRoot } from './workspace-root';
import git, { Errors, TREE, type WalkerEntry } from 'isomorphic-git';
import * as z from 'zod';
import { logger } from '../powertools';
import {
  MergeConflictError,
  NotAGitRepositoryError,
  RefChangedError,
  RefNotFoundError,
  UnresolvedConflictError,
  WorkingCopyError,
} from './errors';
import { gitFs, scopedGitFs } from './git-fs';
import { KeyedMutex, readRef, updateRef } from './refs';

/** Goal and task ids become path segments and ref names, so they are kept to a safe alphabet. */
export const WorkspaceIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/, 'ids are 1-128 letters, digits, "-" or "_", starting with a letter or digit');

export interface GitIdentity {
  name: string;
  email: string;
}

/** The author a role's commits carry: `Cahoots developer <developer@cahoots.invalid>`. */
export function cahootsIdentity(role: string, emailDomain = 'cahoots.invalid'): GitIdentity {
  return { name: `Cahoots ${role}`, email: `${role}@${emailDomain}` };
}

export const goalBranchName = (goalId: string): string => `cahoots/${WorkspaceIdSchema.parse(goalId)}`;
export const taskBranchName = (goalId: string, taskId: string): string =>
  `cahoots-task/${WorkspaceIdSchema.parse(goalId)}/${WorkspaceIdSchema.parse(taskId)}`;


export { defaultWorkspaceRoot };

export interface GitWorkspaceOptions {
  /** The project repository: a checkout containing `.git`, or a bare repository. */
  repoDir: string;
  /** Parent directory of all working copies; see defaultWorkspaceRoot. */
  root?: string;
  /** Author and committer of merge commits on goal branches. */
  mergeIdentity?: GitIdentity;
}

export interface GoalBranch {
  branch: string;
  sha: string;
  /** Whether this call created it (false: it already existed and was left as it was). */
  created: boolean;
}

export interface TaskWorkingCopy {
  goalId: string;
  taskId: string;
  /** Working tree; the only directory tools and commands of this task may touch. */
  dir: string;
  gitdir: string;
  branch: string;
  goalBranch: string;
  /** Tip of the task branch when the working copy was handed out. */
  baseSha: string;
}

export type FileChangeStatus = 'added' | 'modified' | 'deleted';

export interface FileChange {
  path: string;
  status: FileChangeStatus;
}

export interface CommitResult {
  /** False when there was nothing to commit; `sha` is then the unchanged branch tip. */
  committed: boolean;
  sha: string;
  branch: string;
  files: FileChange[];
}

export type MergeResult =
  | { kind: 'already-merged'; goalBranch: string; sha: string }
  | { kind: 'fast-forward' | 'merge-commit'; goalBranch: string; sha: string; previousSha: string };

export interface SyncResult {
  kind: 'up-to-date' | 'fast-forward' | 'merge-commit' | 'conflict';
  /** Task branch tip afterwards (for `conflict`: unchanged until the resolution is committed). */
  sha: string;
  /** Files holding conflict markers (only for `conflict`). */
  paths: string[];
}

export interface CommitInfo {
  sha: string;
  parents: string[];
  subject: string;
  message: string;
  author: GitIdentity;
  /** Author time, ISO 8601. */
  authoredAt: string;
}

// A line that opens or closes a conflict block, as the diff3 merge writes them.
const CONFLICT_MARKER = /^(<{7}|>{7}) /m;
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
const headsRef = (branch: string): string => `refs/heads/${branch}`;
/** The branch a snapshot's own `.git` holds; it never reaches the project repository. */
const SNAPSHOT_BRANCH = 'cahoots-snapshot';

// One lock table for the whole process: every GitWorkspace on the same repository shares it.
const repositoryLocks = new KeyedMutex();
/** A merge whose goal branch keeps moving under it (other processes merging) gives up after this many tries. */
const MERGE_ATTEMPTS = 8;

export class GitWorkspace {
  private readonly cache = {};

  private constructor(
    /** Real path of the project repository as given. */
    readonly repoDir: string,
    /** The project repository's git directory (the common one, for a linked worktree). */
    readonly gitdir: string,
    /** This repository's folder under the workspace root. */
    readonly root: string,
    private readonly mergeIdentity: GitIdentity,
  ) {}

  static async open(options: GitWorkspaceOptions): Promise<GitWorkspace> {
    const repoDir = await fsp.realpath(options.repoDir).catch(() => {
      throw new NotAGitRepositoryError(options.repoDir, 'the directory does not exist');
    });
    const gitdir = await findGitdir(repoDir);
    if (await exists(join(gitdir, 'objects', 'info', 'alternates'))) {
      // Objects borrowed from elsewhere would be invisible to isomorphic-git.
      throw new NotAGitRepositoryError(repoDir, 'it borrows objects through objects/info/alternates; clone it without --shared/--reference');
    }
    const key = `${basename(repoDir).replace(/[^A-Za-z0-9_.-]/g, '_')}-${createHash('sha256').update(gitdir).digest('hex').slice(0, 12)}`;
    const root = join(resolve(options.root ?? defaultWorkspaceRoot()), key);
    await fsp.mkdir(root, { recursive: true });
    return new GitWorkspace(repoDir, gitdir, root, options.mergeIdentity ?? { name: 'Cahoots', email: 'cahoots@cahoots.invalid' });
  }

  /** The branch `HEAD` of the project repository names, for projects that do not set one. */
  async currentBranch(): Promise<string> {
    const branch = await git.currentBranch({ fs: gitFs, gitdir: this.gitdir, fullname: false });
    if (!branch) throw new RefNotFoundError('HEAD (the project repository has a detached HEAD; name the base branch)');
    return branch;
  }

  /** A branch, remote-tracking branch, tag or full sha to its commit. */
  async resolve(ref: string): Promise<string> {
    if (/^[0-9a-f]{40}$/.test(ref)) return ref;
    for (const candidate of [headsRef(ref), `refs/remotes/origin/${ref}`, `refs/tags/${ref}`, ref]) {
      const sha = await readRef(this.gitdir, candidate);
      if (sha) {
        // readCommit peels annotated tags, so callers always get a commit.
        const { oid } = await git.readCommit({ fs: gitFs, gitdir: this.gitdir, oid: sha, cache: this.cache });
        return oid;
      }
    }
    throw new RefNotFoundError(ref);
  }

  /**
   * Create `cahoots/<goalId>` at the tip of `base` (the project's default branch). Idempotent: an
   * existing goal branch is returned untouched, so a retried pipeline step cannot rewind it.
   */
  async createGoalBranch(goalId: string, base?: string): Promise<GoalBranch> {
    const branch = goalBranchName(goalId);
    const existing = await readRef(this.gitdir, headsRef(branch));
    if (existing) return { branch, sha: existing, created: false };
    const sha = await this.resolve(base ?? (await this.currentBranch()));
    try {
      await updateRef(this.gitdir, { ref: headsRef(branch), value: sha, expected: null });
    } catch (error) {
      const raced = await readRef(this.gitdir, headsRef(branch));
      if (raced) return { branch, sha: raced, created: false };
      throw error;
    }
    logger.info('goal branch created', { goalId, branch, sha, base });
    return { branch, sha, created: true };
  }

  workingCopyDir(goalId: string, taskId: string): string {
    return join(this.root, WorkspaceIdSchema.parse(goalId), WorkspaceIdSchema.parse(taskId));
  }

  /**
   * The task's own working copy on `cahoots-task/<goalId>/<taskId>`. An existing working copy is
   * reused (a redelivered message resumes the work); a task branch without a working copy (say,
   * the directory was cleaned) is checked out where it was; otherwise the branch starts at the goal
   * branch tip. `fresh` throws away both and starts again from the goal tip.
   */
  async createTaskWorkingCopy(goalId: string, taskId: string, options: { fresh?: boolean } = {}): Promise<TaskWorkingCopy> {
    const dir = this.workingCopyDir(goalId, taskId);
    const branch = taskBranchName(goalId, taskId);
    const goalBranch = goalBranchName(goalId);
    const gitdir = join(dir, '.git');

    if (options.fresh) {
      await fsp.rm(dir, { recursive: true, force: true });
      await updateRef(this.gitdir, { ref: headsRef(branch), value: null });
    }

    if (await exists(join(gitdir, 'HEAD'))) {
      const head = (await fsp.readFile(join(gitdir, 'HEAD'), 'utf8')).trim();
      if (head !== `ref: ${headsRef(branch)}`) {
        throw new WorkingCopyError(`${dir} exists but is not on ${branch} (HEAD is "${head}")`);
      }
      const baseSha = await readRef(gitdir, headsRef(branch));
      if (!baseSha) throw new WorkingCopyError(`${dir} exists but its branch ${branch} has no commit`);
      return { goalId, taskId, dir: await fsp.realpath(dir), gitdir: await fsp.realpath(gitdir), branch, goalBranch, baseSha };
    }

    let start = await readRef(this.gitdir, headsRef(branch));
    if (!start) {
      start = await readRef(this.gitdir, headsRef(goalBranch));
      if (!start) throw new RefNotFoundError(`${goalBranch} (create the goal branch before its tasks)`);
      // Publish the task branch at once, so the project repository knows it even before a commit.
      await updateRef(this.gitdir, { ref: headsRef(branch), value: start, expected: null });
    }

    // Build and check out next to the final place, then rename: a crash never leaves a half
    // checked-out copy that the reuse rule above would pick up (and whose missing files the next
    // commitAll would record as deletions). The index holds repository-relative paths and inode
    // stats, which a rename of the parent directory does not change.
    await fsp.mkdir(dirname(dir), { recursive: true });
    await fsp.rm(dir, { recursive: true, force: true });
    const staging = await fsp.mkdtemp(`${dir}.building-`);
    try {
      await this.initLinkedGitdir(join(staging, '.git'), branch, start);
      await git.checkout({ fs: gitFs, dir: staging, gitdir: join(staging, '.git'), ref: branch, force: true, cache: this.cache });
      await fsp.rename(staging, dir);
    } catch (error) {
      await fsp.rm(staging, { recursive: true, force: true });
      throw error;
    }
    logger.info('task working copy created', { goalId, taskId, dir, branch, sha: start });
    return { goalId, taskId, dir: await fsp.realpath(dir), gitdir: await fsp.realpath(gitdir), branch, goalBranch, baseSha: start };
  }

  /** A gitdir with its own HEAD/index/refs whose objects are the project repository's. */
  private async initLinkedGitdir(gitdir: string, branch: string, sha: string | null): Promise<void> {
    await fsp.mkdir(join(gitdir, 'refs', 'heads'), { recursive: true });
    await fsp.mkdir(join(gitdir, 'refs', 'tags'), { recursive: true });
    await fsp.mkdir(join(gitdir, 'info'), { recursive: true });
    await fsp.symlink(await fsp.realpath(join(this.gitdir, 'objects')), join(gitdir, 'objects'), 'dir');
    await fsp.writeFile(join(gitdir, 'HEAD'), `ref: ${headsRef(branch)}\n`);
    await fsp.writeFile(
      join(gitdir, 'config'),
      '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = false\n',
    );
    // A shallow clone's boundary and the user's excludes must travel with the working copy.
    for (const file of ['shallow', join('info', 'exclude')]) {
      await fsp.copyFile(join(this.gitdir, file), join(gitdir, file)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
    if (sha) await updateRef(gitdir, { ref: headsRef(branch), value: sha });
  }

  /**
   * Stage every change in the working copy (new, modified and deleted files; ignored files stay
   * out) and commit it on the task branch, then publish the branch to the project repository.
   */
  async commitAll(copy: TaskWorkingCopy, options: { message: string; author: GitIdentity }): Promise<CommitResult> {
    const { dir, gitdir, branch } = copy;
    const matrix = await git.statusMatrix({ fs: gitFs, dir, gitdir, cache: this.cache });
    const files: FileChange[] = [];
    const toAdd: string[] = [];
    for (const [path, head, workdir, stage] of matrix) {
      if (workdir === 0) {
        if (stage !== 0) await git.remove({ fs: gitFs, dir, gitdir, filepath: path, cache: this.cache });
        if (head === 1) files.push({ path, status: 'deleted' });
        continue;
      }
      // 1 = same as HEAD, 2 = differs from HEAD; the index must end up matching the working tree.
      if ((workdir === 2 && stage !== 2) || (workdir === 1 && stage !== 1)) toAdd.push(path);
      if (head === 0) files.push({ path, status: 'added' });
      else if (workdir === 2) files.push({ path, status: 'modified' });
    }
    if (toAdd.length > 0) await git.add({ fs: gitFs, dir, gitdir, filepath: toAdd, cache: this.cache });

    const tip = await readRef(gitdir, headsRef(branch));
    if (!tip) throw new WorkingCopyError(`${branch} has no commit in ${dir}`);
    const mergeHead = (await fsp.readFile(join(gitdir, 'MERGE_HEAD'), 'utf8').catch(() => '')).trim();
    if (files.length === 0 && !mergeHead) return { committed: false, sha: tip, branch, files };
    if (mergeHead) {
      const unresolved: string[] = [];
      for (const { path, status } of files) {
        if (status !== 'deleted' && CONFLICT_MARKER.test(await fsp.readFile(join(dir, path), 'utf8'))) unresolved.push(path);
      }
      if (unresolved.length > 0) throw new UnresolvedConflictError(unresolved.sort());
    }
    const sha = await git.commit({
      fs: gitFs,
      dir,
      gitdir,
      message: options.message,
      author: options.author,
      committer: options.author,
      ...(mergeHead ? { parent: [tip, mergeHead] } : {}),
      cache: this.cache,
    });
    if (mergeHead) await fsp.rm(join(gitdir, 'MERGE_HEAD'), { force: true });
    // Single writer (the task's agent claimed the task), so no compare-and-swap is needed.
    await updateRef(this.gitdir, { ref: headsRef(branch), value: sha });
    logger.info('task changes committed', { branch, sha, files: files.length });
    return { committed: true, sha, branch, files: files.sort(byPath) };
  }

  /**
   * Merge a finished task's branch into its goal branch: fast-forward when the goal branch has not
   * moved, otherwise a three-way merge commit. A conflict throws MergeConflictError and leaves the
   * goal branch where it was.
   *
   * Concurrency: merges into one repository run one at a time in this process (a mutex keyed by
   * the repository's git directory). Across processes (several Lambda environments on one shared
   * workspace), the goal ref is updated with git's `<ref>.lock` protocol and a compare-and-swap on
   * the value read before merging; when another process moved the goal branch in between, the merge
   * is computed again on top of the new tip, so no merged task is ever lost.
   */
  async mergeTask(goalId: string, taskId: string, options: { message?: string } = {}): Promise<MergeResult> {
    return repositoryLocks.run(this.gitdir, async () => {
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await this.mergeTaskOnce(goalId, taskId, options);
        } catch (error) {
          if (!(error instanceof RefChangedError) || attempt >= MERGE_ATTEMPTS) throw error;
          logger.info('goal branch moved during a merge; merging again on the new tip', { goalId, taskId, attempt });
        }
      }
    });
  }

  private async mergeTaskOnce(goalId: string, taskId: string, options: { message?: string }): Promise<MergeResult> {
    const goalBranch = goalBranchName(goalId);
    const taskBranch = taskBranchName(goalId, taskId);
    const ours = await readRef(this.gitdir, headsRef(goalBranch));
    if (!ours) throw new RefNotFoundError(goalBranch);
    const theirs = await readRef(this.gitdir, headsRef(taskBranch));
    if (!theirs) throw new RefNotFoundError(taskBranch);

    const bases = await git.findMergeBase({ fs: gitFs, gitdir: this.gitdir, oids: [ours, theirs], cache: this.cache });
    if (ours === theirs || bases.includes(theirs)) return { kind: 'already-merged', goalBranch, sha: ours };

    if (bases.length === 1 && bases[0] === ours) {
      await updateRef(this.gitdir, { ref: headsRef(goalBranch), value: theirs, expected: ours });
      logger.info('task merged (fast-forward)', { goalBranch, taskBranch, sha: theirs });
      return { kind: 'fast-forward', goalBranch, sha: theirs, previousSha: ours };
    }

    const merged = await this.threeWayMerge({
      ours,
      theirs,
      bases,
      message: options.message ?? `Merge ${taskBranch} into ${goalBranch}`,
      author: this.mergeIdentity,
      conflict: (paths, kind) => new MergeConflictError(goalBranch, taskBranch, paths, kind),
    });
    await updateRef(this.gitdir, { ref: headsRef(goalBranch), value: merged, expected: ours });
    logger.info('task merged (merge commit)', { goalBranch, taskBranch, sha: merged });
    return { kind: 'merge-commit', goalBranch, sha: merged, previousSha: ours };
  }

  /**
   * A merge commit of `theirs` into `ours` (first parent `ours`), made in a scratch gitdir, or the
   * error `conflict` builds. With `conflictDir`, a content conflict also writes the whole merged
   * tree, conflict markers included, into that directory before throwing.
   */
  private async threeWayMerge(args: {
    ours: string;
    theirs: string;
    bases: string[];
    message: string;
    author: GitIdentity;
    conflict: (paths: string[], kind: 'content' | 'unsupported') => Error;
    conflictDir?: string;
  }): Promise<string> {
    const { ours, theirs, bases } = args;
    const base = bases[0] ?? EMPTY_TREE;
    const ourChanges = await this.changedPaths(base, ours);
    const theirChanges = await this.changedPaths(base, theirs);
    const touchedByBoth = overlappingPaths([...ourChanges.keys()], [...theirChanges.keys()]);
    if (bases.length !== 1) {
      // Criss-cross history needs a recursive merge, which isomorphic-git does not do.
      throw args.conflict(touchedByBoth, 'unsupported');
    }
    // isomorphic-git would merge binary files as UTF-8 text and corrupt them; refuse instead.
    const binary: string[] = [];
    for (const path of touchedByBoth.filter((p) => ourChanges.has(p) && theirChanges.has(p))) {
      const [o, t] = [ourChanges.get(path)?.after, theirChanges.get(path)?.after];
      if (o !== t && ((o && (await this.isBinaryBlob(o))) || (t && (await this.isBinaryBlob(t))))) binary.push(path);
    }
    if (binary.length > 0) throw args.conflict(binary, 'unsupported');

    const scratch = await this.scratchGitdir();
    const scoped = scopedGitFs();
    try {
      const result = await git.merge({
        fs: scoped.fs,
        gitdir: scratch,
        ...(args.conflictDir ? { dir: args.conflictDir, abortOnConflict: false } : { abortOnConflict: true }),
        ours,
        theirs,
        fastForward: false,
        noUpdateBranch: true,
        message: args.message,
        author: args.author,
        committer: args.author,
        cache: this.cache,
      });
      if (!result.oid) throw new WorkingCopyError(`merging ${theirs} into ${ours} produced no commit`);
      return result.oid;
    } catch (error) {
      if (error instanceof Errors.MergeConflictError) throw args.conflict([...error.data.filepaths].sort(), 'content');
      if (error instanceof Errors.MergeNotSupportedError) throw args.conflict(touchedByBoth, 'unsupported');
      throw error;
    } finally {
      // A merge that failed part-way may still have writes running: stop them before removing.
      await scoped.close();
      await fsp.rm(scratch, { recursive: true, force: true });
    }
  }

  /**
   * Bring the goal branch's newer work into a task's working copy — the first step of a
   * conflict-resolution task, or of a task that must build on work merged after it started.
   * The working copy must have no uncommitted changes.
   *
   * - `up-to-date`: the task already contains the goal tip;
   * - `fast-forward` / `merge-commit`: done, committed on the task branch and checked out;
   * - `conflict`: the working copy now holds the merged files, with git-style conflict markers in
   *   `paths`. The agent edits them; the next commitAll refuses while markers remain, then records a
   *   merge commit whose second parent is the goal tip, so the task merges back as a fast-forward.
   * Changes isomorphic-git cannot merge (file/directory, binary) still throw MergeConflictError.
   */
  async syncTaskWithGoal(copy: TaskWorkingCopy, options: { author: GitIdentity }): Promise<SyncResult> {
    const { dir, gitdir, branch, goalBranch } = copy;
    const dirty = (await git.statusMatrix({ fs: gitFs, dir, gitdir, cache: this.cache })).filter(
      ([, head, workdir, stage]) => !(head === 1 && workdir === 1 && stage === 1),
    );
    if (dirty.length > 0) {
      throw new WorkingCopyError(`${dir} has uncommitted changes (${dirty.map(([p]) => p).slice(0, 5).join(', ')}); commit them first`);
    }
    if (await exists(join(gitdir, 'MERGE_HEAD'))) throw new WorkingCopyError(`${dir} is already in the middle of a merge; commit it first`);
    const ours = await readRef(gitdir, headsRef(branch));
    const theirs = await readRef(this.gitdir, headsRef(goalBranch));
    if (!ours) throw new RefNotFoundError(branch);
    if (!theirs) throw new RefNotFoundError(goalBranch);
    const bases = await git.findMergeBase({ fs: gitFs, gitdir: this.gitdir, oids: [ours, theirs], cache: this.cache });
    if (ours === theirs || bases.includes(theirs)) return { kind: 'up-to-date', sha: ours, paths: [] };

    const moveTo = async (sha: string): Promise<void> => {
      await updateRef(gitdir, { ref: headsRef(branch), value: sha });
      await git.checkout({ fs: gitFs, dir, gitdir, ref: branch, force: true, cache: this.cache });
      await updateRef(this.gitdir, { ref: headsRef(branch), value: sha });
    };
    if (bases.length === 1 && bases[0] === ours) {
      await moveTo(theirs);
      return { kind: 'fast-forward', sha: theirs, paths: [] };
    }

    const conflictDir = await fsp.mkdtemp(join(this.root, '.conflict-'));
    try {
      const merged = await this.threeWayMerge({
        ours,
        theirs,
        bases,
        message: `Merge ${goalBranch} into ${branch}`,
        author: options.author,
        conflict: (paths, kind) => new MergeConflictError(goalBranch, branch, paths, kind, 'goal-into-task'),
        conflictDir,
      });
      await moveTo(merged);
      return { kind: 'merge-commit', sha: merged, paths: [] };
    } catch (error) {
      if (!(error instanceof MergeConflictError) || error.kind !== 'content') throw error;
      // The merged tree (markers included) is in conflictDir. Copy over every path the goal side
      // changed; paths only the task changed are already right in the working copy.
      const base = bases[0] ?? EMPTY_TREE;
      for (const path of (await this.changedPaths(base, theirs)).keys()) {
        const source = join(conflictDir, path);
        const target = join(dir, path);
        if (await exists(source)) {
          await fsp.mkdir(dirname(target), { recursive: true });
          await fsp.copyFile(source, target);
        } else {
          await fsp.rm(target, { force: true });
        }
      }
      // MERGE_HEAD is what real git writes too, so `git status` in the working copy agrees.
      await fsp.writeFile(join(gitdir, 'MERGE_HEAD'), `${theirs}\n`);
      logger.info('goal merged into task with conflicts', { branch, goalBranch, paths: error.paths });
      return { kind: 'conflict', sha: ours, paths: error.paths };
    } finally {
      await fsp.rm(conflictDir, { recursive: true, force: true });
    }
  }

  /**
   * Merging in the project repository's own gitdir would read (and could trip over) the index of
   * whoever works in that checkout; a throwaway gitdir sharing the object store avoids it.
   */
  private async scratchGitdir(): Promise<string> {
    const scratch = await fsp.mkdtemp(join(this.root, '.merge-'));
    await this.initLinkedGitdir(scratch, 'scratch', null);
    return scratch;
  }

  private async isBinaryBlob(oid: string): Promise<boolean> {
    const { blob } = await git.readBlob({ fs: gitFs, gitdir: this.gitdir, oid, cache: this.cache });
    return looksBinary(blob);
  }

  /** Files whose content or presence differs between two commits, with their blob ids on each side. */
  private async changedPaths(from: string, to: string): Promise<Map<string, { before?: string; after?: string }>> {
    const changes = new Map<string, { before?: string; after?: string }>();
    const fileOid = async (entry: WalkerEntry | null | undefined): Promise<string | undefined> => {
      const type = await entry?.type();
      // Submodules ('commit') change like files do.
      return type === 'blob' || type === 'commit' ? entry?.oid() : undefined;
    };
    await git.walk({
      fs: gitFs,
      gitdir: this.gitdir,
      cache: this.cache,
      trees: [TREE({ ref: from }), TREE({ ref: to })],
      map: async (path: string, [a, b]: Array<WalkerEntry | null>) => {
        if (path === '.') return true;
        if ((await a?.type()) === 'tree' && (await b?.type()) === 'tree' && (await a?.oid()) === (await b?.oid())) {
          return null; // identical subtree: do not descend
        }
        const [before, after] = [await fileOid(a), await fileOid(b)];
        if (before !== after) changes.set(path, { before, after });
        return true;
      },
      reduce: async () => undefined,
    });
    return changes;
  }

  /**
   * Files changed on `head` since it forked from `base` (what a pull request from head into base
   * would show), sorted by path.
   */
  async diffSummary(base: string, head: string): Promise<FileChange[]> {
    const [baseSha, headSha] = [await this.resolve(base), await this.resolve(head)];
    const [fork] = await git.findMergeBase({ fs: gitFs, gitdir: this.gitdir, oids: [baseSha, headSha], cache: this.cache });
    const changed = await this.changedPaths(fork ?? EMPTY_TREE, headSha);
    return [...changed.entries()]
      .map(([path, { before, after }]): FileChange => ({
        path,
        status: after === undefined ? 'deleted' : before === undefined ? 'added' : 'modified',
      }))
      .sort(byPath);
  }

  /**
   * Commits on `ref`, newest first. With `notIn`, only commits made after `ref` forked from it
   * (git's `notIn..ref` when `notIn` was never merged back into `ref`).
   */
  async listCommits(ref: string, options: { notIn?: string; limit?: number } = {}): Promise<CommitInfo[]> {
    const limit = options.limit ?? 100;
    const tip = await this.resolve(ref);
    const stop = new Set<string>();
    if (options.notIn) {
      const other = await this.resolve(options.notIn);
      for (const oid of await git.findMergeBase({ fs: gitFs, gitdir: this.gitdir, oids: [tip, other], cache: this.cache })) stop.add(oid);
    }
    const seen = new Set<string>();
    const found: CommitInfo[] = [];
    const queue = [tip];
    // Breadth-first over all parents (merges bring task commits in); shallow boundaries end the walk.
    while (queue.length > 0 && found.length < limit * 4) {
      const oid = queue.shift() as string;
      if (seen.has(oid) || stop.has(oid)) continue;
      seen.add(oid);
      let commit;
      try {
        ({ commit } = await git.readCommit({ fs: gitFs, gitdir: this.gitdir, oid, cache: this.cache }));
      } catch (error) {
        if (error instanceof Errors.NotFoundError) continue;
        throw error;
      }
      found.push({
        sha: oid,
        parents: commit.parent,
        subject: commit.message.split('\n', 1)[0] ?? '',
        message: commit.message,
        author: { name: commit.author.name, email: commit.author.email },
        authoredAt: new Date(commit.author.timestamp * 1000).toISOString(),
      });
      queue.push(...commit.parent);
    }
    return found.sort((a, b) => b.authoredAt.localeCompare(a.authoredAt)).slice(0, limit);
  }

  /** Where snapshot `name` lives: `<root>/snapshots/<name>`. */
  snapshotDir(name: string): string {
    return join(this.root, 'snapshots', WorkspaceIdSchema.parse(name));
  }

  /**
   * A read-only view of commit `sha` for tools that only look (work detection): a working copy
   * with its own `.git` like a task's, but on a branch that exists only inside it, so the project
   * repository gains no ref. An existing snapshot at the same commit is reused.
   */
  async createSnapshot(name: string, sha: string): Promise<{ dir: string }> {
    const dir = this.snapshotDir(name);
    const gitdir = join(dir, '.git');
    if (await exists(join(gitdir, 'HEAD'))) {
      const current = await readRef(gitdir, headsRef(SNAPSHOT_BRANCH));
      if (current === sha) return { dir: await fsp.realpath(dir) };
    }
    await fsp.mkdir(dirname(dir), { recursive: true });
    await fsp.rm(dir, { recursive: true, force: true });
    const staging = await fsp.mkdtemp(`${dir}.building-`);
    try {
      await this.initLinkedGitdir(join(staging, '.git'), SNAPSHOT_BRANCH, sha);
      await git.checkout({ fs: gitFs, dir: staging, gitdir: join(staging, '.git'), ref: SNAPSHOT_BRANCH, force: true, cache: this.cache });
      await fsp.rename(staging, dir);
    } catch (error) {
      await fsp.rm(staging, { recursive: true, force: true });
      throw error;
    }
    return { dir: await fsp.realpath(dir) };
  }

  /** Removes a snapshot (its objects are the project repository's and stay). */
  async removeSnapshot(name: string): Promise<void> {
    await fsp.rm(this.snapshotDir(name), { recursive: true, force: true });
  }

  /** Delete a task's working copy; with `deleteBranch`, also its branch in the project repository. */
  async removeTaskWorkingCopy(goalId: string, taskId: string, options: { deleteBranch?: boolean } = {}): Promise<void> {
    // fs.rm does not follow symlinks, so the shared object store behind .git/objects survives.
    await fsp.rm(this.workingCopyDir(goalId, taskId), { recursive: true, force: true });
    if (options.deleteBranch) {
      await updateRef(this.gitdir, { ref: headsRef(taskBranchName(goalId, taskId)), value: null });
    }
  }

  /** Delete every working copy of a goal; with `deleteTaskBranches`, also all its task branches. */
  async removeGoalWorkingCopies(goalId: string, options: { deleteTaskBranches?: boolean } = {}): Promise<void> {
    await fsp.rm(join(this.root, WorkspaceIdSchema.parse(goalId)), { recursive: true, force: true });
    if (options.deleteTaskBranches) {
      const prefix = `cahoots-task/${goalId}/`;
      for (const branch of await git.listBranches({ fs: gitFs, gitdir: this.gitdir })) {
        if (branch.startsWith(prefix)) await updateRef(this.gitdir, { ref: headsRef(branch), value: null });
      }
    }
  }
}

/** The directory holding refs and objects: `.git`, a bare repository, or a linked worktree's common dir. */
async function findGitdir(repoDir: string): Promise<string> {
  const dotGit = join(repoDir, '.git');
  const stat = await fsp.stat(dotGit).catch(() => null);
  if (stat?.isDirectory()) return dotGit;
  if (stat?.isFile()) {
    // `.git` file: a linked worktree or a submodule. Refs and objects live in the common dir.
    const pointer = (await fsp.readFile(dotGit, 'utf8')).match(/^gitdir:\s*(.+)\s*$/m)?.[1];
    if (!pointer) throw new NotAGitRepositoryError(repoDir, '.git is a file without a "gitdir:" line');
    const linked = resolve(repoDir, pointer.trim());
    const common = await fsp.readFile(join(linked, 'commondir'), 'utf8').catch(() => null);
    return fsp.realpath(common ? resolve(linked, common.trim()) : linked);
  }
  if ((await exists(join(repoDir, 'HEAD'))) && (await exists(join(repoDir, 'objects'))) && (await exists(join(repoDir, 'refs')))) {
    return repoDir;
  }
  throw new NotAGitRepositoryError(repoDir, 'no .git directory and not a bare repository');
}

async function exists(path: string): Promise<boolean> {
  return fsp.lstat(path).then(
    () => true,
    () => false,
  );
}

/** Binary if there is a NUL byte in the first 8000 bytes (git's rule) or the bytes are not UTF-8 text. */
export function looksBinary(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 8000);
  if (head.includes(0)) return true;
  const sample = bytes.subarray(0, 65536);
  try {
    // `stream` tolerates a multi-byte character cut at the end of the sample.
    new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: sample.length < bytes.length });
    return false;
  } catch {
    return true;
  }
}

/**
 * Paths changed on both sides, counting a file on one side and a directory of the same name on the
 * other (`lib` vs `lib/a.ts`) as touching: that is the conflict isomorphic-git cannot merge.
 */
function overlappingPaths(ours: string[], theirs: string[]): string[] {
  const touches = (a: string, b: string): boolean => a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
  const found = new Set<string>();
  for (const a of ours) {
    for (const b of theirs) {
      if (touches(a, b)) {
        found.add(a);
        found.add(b);
      }
    }
  }
  return [...found].sort();
}

const byPath = (a: FileChange, b: FileChange): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

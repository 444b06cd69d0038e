// Small schemas shared by several entities: timestamps, versions, days, branch names, text limits.
import * as z from 'zod';

/**
 * UTC ISO-8601 with milliseconds, exactly what `Date#toISOString()` produces. One fixed width
 * matters: timestamps are used inside sort keys, where `…00Z` and `…00.000Z` would mis-sort.
 */
export const IsoTimestampSchema = z.iso.datetime({ precision: 3 });
export type IsoTimestamp = z.infer<typeof IsoTimestampSchema>;

export function nowIso(clock: () => Date = () => new Date()): string {
  return clock().toISOString();
}

/** Optimistic-concurrency version: 1 on create, +1 on every successful update. */
export const VersionSchema = z.number().int().min(1);

/** A UTC calendar day, `yyyy-mm-dd`, that exists. */
export const DaySchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'day must be yyyy-mm-dd' })
  .refine(
    (day) => {
      // zod 4 runs refinements even after the regex failed, so a malformed string must not throw here.
      const time = Date.parse(`${day}T00:00:00.000Z`);
      return Number.isFinite(time) && new Date(time).toISOString().startsWith(day);
    },
    { message: 'day does not exist' },
  );
export type Day = z.infer<typeof DaySchema>;

export function dayOf(at: Date | string): string {
  return (typeof at === 'string' ? at : at.toISOString()).slice(0, 10);
}

/**
 * A git branch name following the common subset of `git check-ref-format`: no `..`, no `//`,
 * no leading/trailing `/`, no `.lock` suffix, no `@{`, only safe characters.
 */
export const BranchNameSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._/-]+$/, { message: 'branch may contain letters, digits, . _ / - only' })
  .refine((b) => !b.includes('..') && !b.includes('//') && !b.startsWith('/') && !b.endsWith('/') && !b.endsWith('.lock') && !b.startsWith('-'), {
    message: 'not a valid git branch name',
  });

/** Git commit SHA (abbreviated or full, SHA-1 or SHA-256). */
export const CommitShaSchema = z.string().regex(/^[0-9a-f]{7,64}$/, { message: 'must be a hex commit sha' });

/** A relative path inside a repository: no absolute paths, no `..` segments, no NUL. */
export const RepoRelativePathSchema = z
  .string()
  .min(1)
  .max(1024)
  .refine((p) => !p.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(p) && !p.split(/[\\/]/).includes('..') && !p.includes('\0'), {
    message: 'must be a relative path inside the repository',
  });

/** Text length limits, shared so API validation and storage agree (DynamoDB items cap at 400 KB). */
export const LIMITS = {
  name: 100,
  title: 200,
  description: 20_000,
  spec: 20_000,
  summary: 8_000,
  criterion: 1_000,
  message: 4_000,
  label: 50,
} as const;

export const NameSchema = z.string().trim().min(1).max(LIMITS.name);
export const TitleSchema = z.string().trim().min(1).max(LIMITS.title);

/** Why something failed: a stable code (e.g. `Agent.Stuck`) and a human message. */
export const FailureCauseSchema = z.object({
  code: z.string().min(1).max(100),
  message: z.string().max(LIMITS.message),
});
export type FailureCause = z.infer<typeof FailureCauseSchema>;

/** Non-negative amount of US dollars. */
export const UsdSchema = z.number().nonnegative().max(1_000_000);

/**
 * A secret's name as the secrets port reads it: under the cell's `cahoots/<customerId>/` prefix in
 * a cell, a `CAHOOTS_SECRET_<NAME>` variable or the secrets file locally. Path-like, as Secrets
 * Manager allows, with no leading, trailing or doubled slash.
 */
export const SecretNameSchema = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9_+=.@-]+(\/[A-Za-z0-9_+=.@-]+)*$/, {
    message: 'secret name must be letters, digits and _ + = . @ - in /-separated parts, e.g. openai/api-key',
  });

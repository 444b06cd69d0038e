// The npm registry as the dependency detectors ask it, from the detector's own process (the
// sandbox is offline): the bulk advisory endpoint for the installed versions, and each package's
// `dist-tags.latest` from its abbreviated metadata. Answers are parsed with zod; a registry that
// cannot be reached or answers nonsense fails the detector with the reason.
import * as z from 'zod';
import { DetectorFailedError, excerpt, type NpmRegistryAccess } from './types';

/** One request; the registry's advisory service is slow now and then. */
const REQUEST_TIMEOUT_MS = 60_000;
/** Packages per bulk request, so one request stays a reasonable size. */
const BULK_BATCH = 500;

export const AdvisorySchema = z.looseObject({
  id: z.union([z.number(), z.string()]),
  url: z.string().optional(),
  title: z.string().optional(),
  severity: z.enum(['info', 'low', 'moderate', 'high', 'critical']),
  vulnerable_versions: z.string(),
});
export type Advisory = z.infer<typeof AdvisorySchema>;
const BulkAnswerSchema = z.record(z.string(), z.array(AdvisorySchema));

const PackumentSchema = z.looseObject({ name: z.string(), 'dist-tags': z.looseObject({ latest: z.string().optional() }) });

export class NpmRegistryClient {
  private readonly base: string;

  constructor(
    private readonly detector: string,
    url: string,
  ) {
    this.base = url.endsWith('/') ? url : `${url}/`;
  }

  /** Advisories per package that may affect one of the given versions (the caller matches the ranges). */
  async bulkAdvisories(versions: ReadonlyMap<string, ReadonlySet<string>>): Promise<Map<string, Advisory[]>> {
    const names = [...versions.keys()].sort();
    const found = new Map<string, Advisory[]>();
    for (let start = 0; start < names.length; start += BULK_BATCH) {
      const body = Object.fromEntries(names.slice(start, start + BULK_BATCH).map((name) => [name, [...versions.get(name)!].sort()]));
      const answer = await this.request('-/npm/v1/security/advisories/bulk', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
      });
      const parsed = BulkAnswerSchema.safeParse(answer.json);
      if (!parsed.success) throw this.failure(`the bulk advisory answer does not have the expected shape: ${describeIssue(parsed.error)}`);
      for (const [name, advisories] of Object.entries(parsed.data)) if (advisories.length > 0) found.set(name, advisories);
    }
    return found;
  }

  /** The package's `latest` dist-tag, or undefined when the registry does not have the package (404). */
  async latestVersion(name: string): Promise<string | undefined> {
    const answer = await this.request(encodeURIComponent(name).replace(/^%40/, '@'), { headers: { accept: 'application/vnd.npm.install-v1+json' } }, { notFound: true });
    if (answer.status === 404) return undefined;
    const parsed = PackumentSchema.safeParse(answer.json);
    if (!parsed.success) throw this.failure(`the metadata of ${name} does not have the expected shape: ${describeIssue(parsed.error)}`);
    return parsed.data['dist-tags'].latest;
  }

  private async request(path: string, init: RequestInit, options: { notFound?: boolean } = {}): Promise<{ status: number; json: unknown }> {
    const url = new URL(path, this.base);
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (error) {
      const cause = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
      throw this.failure(`the registry ${this.base} could not be reached: ${cause}`);
    }
    if (response.status === 404 && options.notFound) return { status: 404, json: undefined };
    const text = await response.text();
    if (!response.ok) throw this.failure(`${init.method ?? 'GET'} ${url.pathname} answered ${response.status}: ${excerpt(text, 300)}`);
    try {
      return { status: response.status, json: JSON.parse(text) };
    } catch {
      throw this.failure(`${init.method ?? 'GET'} ${url.pathname} answered with something other than JSON: ${excerpt(text, 300)}`);
    }
  }

  private failure(message: string): DetectorFailedError {
    return new DetectorFailedError(this.detector, message);
  }
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || '(answer)'}: ${issue.message}` : 'unexpected shape';
}

/** The client for a detector, or a DetectorFailedError saying why the registry cannot be asked. */
export function npmRegistryFor(detector: string, access: NpmRegistryAccess): NpmRegistryClient {
  if ('unavailable' in access) throw new DetectorFailedError(detector, access.unavailable);
  return new NpmRegistryClient(detector, access.url);
}

// Local Secrets: `CAHOOTS_SECRET_<NAME>` environment variables first, then the variable other tools
// already use for the same secret (GITHUB_TOKEN), then an optional JSON file of
// `{ "<name>": "<value>" }` (kept out of git, e.g. .cahoots/secrets.json).
import { readFile } from 'node:fs/promises';
import * as z from 'zod';
import type { Secrets } from '../ports/index';
import { LocalRuntimeError } from './errors';

export const SECRET_ENV_PREFIX = 'CAHOOTS_SECRET_';

/** The environment variable holding secret `name`: `github/token` → `CAHOOTS_SECRET_GITHUB_TOKEN`. */
export function secretEnvName(name: string): string {
  return SECRET_ENV_PREFIX + name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/** Secrets people usually have in their environment under another tool's name already. */
export const WELL_KNOWN_SECRET_ENV: Readonly<Record<string, string>> = {
  'github/token': 'GITHUB_TOKEN',
};

const SecretsFileSchema = z.record(z.string(), z.string());

export class LocalSecretsFileError extends LocalRuntimeError {
  readonly code = 'LocalSecretsFile';
  constructor(
    readonly path: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Secrets file ${path} ${reason}`, options);
  }
}

export interface LocalSecretsOptions {
  env?: NodeJS.ProcessEnv;
  /** A JSON object of secret name → value. A missing file counts as empty. */
  file?: string;
}

export class LocalSecrets implements Secrets {
  private readonly env: NodeJS.ProcessEnv;
  private readonly file: string | undefined;
  private fileSecrets: Promise<Record<string, string>> | undefined;

  constructor(options: LocalSecretsOptions = {}) {
    this.env = options.env ?? process.env;
    this.file = options.file;
  }

  async get(name: string): Promise<string | undefined> {
    const fromEnv = this.env[secretEnvName(name)];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    const wellKnown = Object.hasOwn(WELL_KNOWN_SECRET_ENV, name) ? this.env[WELL_KNOWN_SECRET_ENV[name]!] : undefined;
    if (wellKnown !== undefined && wellKnown !== '') return wellKnown;
    if (!this.file) return undefined;
    this.fileSecrets ??= this.readFile(this.file);
    const secrets = await this.fileSecrets;
    return Object.hasOwn(secrets, name) ? secrets[name] : undefined;
  }

  private async readFile(path: string): Promise<Record<string, string>> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT') return {};
      throw new LocalSecretsFileError(path, 'cannot be read', { cause: error });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new LocalSecretsFileError(path, 'is not valid JSON', { cause: error });
    }
    const result = SecretsFileSchema.safeParse(parsed);
    if (!result.success) throw new LocalSecretsFileError(path, 'must be a JSON object of string values');
    return result.data;
  }
}

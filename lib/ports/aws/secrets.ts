// Secrets over Secrets Manager with a short in-memory cache: a warm Lambda reads each secret once
// per TTL, and concurrent first reads share one request.
import { GetSecretValueCommand, ResourceNotFoundException, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Secrets } from '../index';
import { secretsManagerClient } from './clients';
import type { CellPortFactory } from './cell-ports';

export interface SecretsManagerSecretsOptions {
  /** Prepended to every name, e.g. `cahoots/acme/`. */
  prefix?: string;
  /** 0 disables caching. */
  cacheTtlSeconds?: number;
  /** Clock, for tests. */
  now?: () => number;
  /** Defaults to the process-wide traced client. */
  client?: SecretsManagerClient;
}

interface CachedSecret {
  value: string | undefined;
  expiresAt: number;
}

export class SecretsManagerSecrets implements Secrets {
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly client: () => SecretsManagerClient;
  private readonly cache = new Map<string, CachedSecret>();
  private readonly inFlight = new Map<string, Promise<string | undefined>>();

  constructor(options: SecretsManagerSecretsOptions = {}) {
    this.prefix = options.prefix ?? '';
    this.ttlMs = (options.cacheTtlSeconds ?? 300) * 1000;
    this.now = options.now ?? Date.now;
    this.client = options.client ? () => options.client as SecretsManagerClient : secretsManagerClient;
  }

  async get(name: string): Promise<string | undefined> {
    const cached = this.cache.get(name);
    if (cached && cached.expiresAt > this.now()) return cached.value;
    const running = this.inFlight.get(name);
    if (running) return running;
    const fetching = this.fetch(name).finally(() => this.inFlight.delete(name));
    this.inFlight.set(name, fetching);
    return fetching;
  }

  /** Forgets cached values, e.g. after a rotation the caller knows about. */
  clear(): void {
    this.cache.clear();
  }

  private async fetch(name: string): Promise<string | undefined> {
    let value: string | undefined;
    try {
      const secret = await this.client().send(new GetSecretValueCommand({ SecretId: this.prefix + name }));
      value = secret.SecretString ?? (secret.SecretBinary ? Buffer.from(secret.SecretBinary).toString('utf8') : undefined);
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
      value = undefined;
    }
    // Absence is cached too, so a missing optional secret does not cost a call per use.
    if (this.ttlMs > 0) this.cache.set(name, { value, expiresAt: this.now() + this.ttlMs });
    return value;
  }
}

/** The secrets port (SECRETS_PREFIX, SECRETS_CACHE_TTL_SECONDS). */
export const cellPort: CellPortFactory<'secrets'> = ({ config }) =>
  new SecretsManagerSecrets({ prefix: config.secretsPrefix, cacheTtlSeconds: config.secretsCacheTtlSeconds });

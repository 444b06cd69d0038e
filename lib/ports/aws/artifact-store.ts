// ArtifactStore over S3. The bucket encrypts with its default KMS key, so requests carry no SSE
// parameters and the adapter needs no key permissions of its own beyond what the bucket grants.
import { GetObjectCommand, NoSuchKey, NotFound, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ArtifactStore } from '../index';
import { s3Client } from './clients';
import { InvalidArtifactKeyError, utf8ByteLength } from '../service-rules';
import { type CellPortFactory, unconfigured } from './cell-ports';
import { AWS_PORTS_ENV } from './config';

export { InvalidArtifactKeyError } from '../service-rules';

export interface S3ArtifactStoreOptions {
  bucket: string;
  /** Prepended to every key. */
  prefix?: string;
  /** Defaults to the process-wide traced client. */
  client?: S3Client;
}

export class S3ArtifactStore implements ArtifactStore {
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly client: () => S3Client;

  constructor(options: S3ArtifactStoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? '';
    this.client = options.client ? () => options.client as S3Client : s3Client;
  }

  async put(key: string, body: string | Uint8Array, contentType?: string): Promise<void> {
    await this.client().send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.objectKey(key),
        Body: body,
        ContentType: contentType ?? (typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/octet-stream'),
      }),
    );
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const object = await this.client().send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      if (!object.Body) return new Uint8Array();
      return await object.Body.transformToByteArray();
    } catch (error) {
      if (error instanceof NoSuchKey || error instanceof NotFound) return undefined;
      throw error;
    }
  }

  private objectKey(key: string): string {
    if (key.length === 0) throw new InvalidArtifactKeyError(key, 'empty');
    if (key.startsWith('/')) throw new InvalidArtifactKeyError(key, 'starts with /');
    const full = this.prefix + key;
    if (utf8ByteLength(full) > 1024) throw new InvalidArtifactKeyError(key, 'longer than 1024 bytes');
    return full;
  }
}

/** The artifacts port of a function that stores checkpoints or artifacts (ARTIFACTS_BUCKET, ARTIFACTS_PREFIX). */
export const cellPort: CellPortFactory<'artifacts'> = ({ config }) =>
  config.artifactsBucket
    ? new S3ArtifactStore({ bucket: config.artifactsBucket, prefix: config.artifactsPrefix })
    : unconfigured('artifacts', AWS_PORTS_ENV.artifactsBucket);

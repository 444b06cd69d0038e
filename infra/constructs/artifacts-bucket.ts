// The cell's artifacts bucket (agent checkpoints, reports, patches) and the bucket that receives
// its server access logs.
import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct, type IConstruct } from 'constructs';

export interface ArtifactsBucketProps {
  readonly encryptionKey: IKey;
  /** Physical name; see cellArtifactsBucketName. */
  readonly bucketName?: string;
  /** Old versions are kept this long so an overwritten or deleted artifact can be recovered. */
  readonly noncurrentVersionRetention?: Duration;
}

export class ArtifactsBucket extends Construct {
  readonly bucket: Bucket;
  readonly accessLogsBucket: Bucket;

  constructor(scope: Construct, id: string, props: ArtifactsBucketProps) {
    super(scope, id);

    this.accessLogsBucket = new Bucket(this, 'AccessLogs', {
      // S3 server access log delivery cannot write to an SSE-KMS bucket; SSE-S3 is the only
      // default encryption it supports. This is the one cell store not under the customer key,
      // and it holds request metadata only, never artifact content.
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        { id: 'expire-access-logs', expiration: Duration.days(365) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // No access logging of its own: cdk-nag (AwsSolutions-S1) rightly accepts a bucket that is the
    // log destination of another, since logging it into itself would never end.

    this.bucket = new Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      encryption: BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      // One data key per bucket instead of one KMS request per object: same protection, far fewer KMS calls.
      bucketKeyEnabled: true,
      versioned: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'artifacts/',
      lifecycleRules: [
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: props.noncurrentVersionRetention ?? Duration.days(30),
        },
        { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}

export interface ArtifactsPrefixAccess {
  readonly bucket: IBucket;
  readonly encryptionKey: IKey;
  /** Key prefix ending in `/`, e.g. `checkpoints/`. */
  readonly prefix: string;
}

/**
 * Read and write of objects under one prefix, the way lib/ports/aws/artifact-store.ts uses S3:
 * GetObject and PutObject there, and ListBucket limited to that prefix — without it S3 answers a
 * read of a missing key with 403 instead of 404, which the store could not tell from a real denial.
 * The generic Bucket.grantReadWrite would add Delete*, wildcard actions and wildcard KMS actions.
 */
export function grantArtifactsPrefixAccess(
  grantee: IGrantable,
  role: IConstruct,
  { bucket, encryptionKey, prefix }: ArtifactsPrefixAccess,
): Grant {
  if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/$/.test(prefix)) {
    throw new Error(`Artifacts prefix "${prefix}" must be folder names ending in "/"`);
  }
  const objectsArn = bucket.arnForObjects(`${prefix}*`);
  if (Token.isUnresolved(objectsArn)) {
    throw new Error('grantArtifactsPrefixAccess needs the bucket by its literal name (see StatefulStack.importInto)');
  }
  const objects = Grant.addToPrincipal({ grantee, actions: ['s3:GetObject', 's3:PutObject'], resourceArns: [objectsArn] });
  Validations.of(role).acknowledge({
    id: `AwsSolutions::AwsSolutions-IAM5[Resource::${objectsArn}]`,
    reason: `Object keys under ${prefix} are chosen at run time (one per agent run), so the grant names the prefix followed by *; the rest of the bucket stays out of reach.`,
  });
  const listing = Grant.addToPrincipal({
    grantee,
    actions: ['s3:ListBucket'],
    resourceArns: [bucket.bucketArn],
    conditions: { StringLike: { 's3:prefix': `${prefix}*` } },
  });
  // The bucket encrypts with the customer key (bucket key on); S3 calls KMS for the caller.
  const key = Grant.addToPrincipal({
    grantee,
    actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
    resourceArns: [encryptionKey.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(bucket).region}.amazonaws.com` } },
  });
  return objects.combine(listing).combine(key);
}

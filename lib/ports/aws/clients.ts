// The AWS SDK clients the adapters share: one per service per process, created on first use and
// traced. No endpoint or region is set here, so AWS_REGION and AWS_ENDPOINT_URL_<SERVICE> work.
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { traceAwsClient } from '../../tracing';

let sfn: SFNClient | undefined;
let sqs: SQSClient | undefined;
let eventBridge: EventBridgeClient | undefined;
let s3: S3Client | undefined;
let secretsManager: SecretsManagerClient | undefined;
let lambda: LambdaClient | undefined;
let scheduler: SchedulerClient | undefined;
let cloudWatch: CloudWatchClient | undefined;

export function sfnClient(): SFNClient {
  sfn ??= traceAwsClient(new SFNClient({}));
  return sfn;
}

export function sqsClient(): SQSClient {
  sqs ??= traceAwsClient(new SQSClient({}));
  return sqs;
}

export function eventBridgeClient(): EventBridgeClient {
  eventBridge ??= traceAwsClient(new EventBridgeClient({}));
  return eventBridge;
}

export function s3Client(): S3Client {
  s3 ??= traceAwsClient(new S3Client({}));
  return s3;
}

export function secretsManagerClient(): SecretsManagerClient {
  secretsManager ??= traceAwsClient(new SecretsManagerClient({}));
  return secretsManager;
}

export function lambdaClient(): LambdaClient {
  lambda ??= traceAwsClient(new LambdaClient({}));
  return lambda;
}

export function schedulerClient(): SchedulerClient {
  scheduler ??= traceAwsClient(new SchedulerClient({}));
  return scheduler;
}

export function cloudWatchClient(): CloudWatchClient {
  cloudWatch ??= traceAwsClient(new CloudWatchClient({}));
  return cloudWatch;
}

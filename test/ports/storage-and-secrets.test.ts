import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../lib/ports/aws/artifact-store';
import { SecretsManagerSecrets } from '../../lib/ports/aws/secrets';
import { SqsWorkQueue } from '../../lib/ports/aws/work-queue';
import { InvalidDelaySecondsError } from '../../lib/ports/service-rules';

const s3 = mockClient(S3Client);
const secretsManager = mockClient(SecretsManagerClient);
const sqs = mockClient(SQSClient);
// Tests share a worker: the next file must meet the real clients, not this mock.
afterAll(() => {
  s3.restore();
  secretsManager.restore();
  sqs.restore();
});

afterEach(() => {
  s3.reset();
  secretsManager.reset();
  sqs.reset();
});

describe('S3ArtifactStore', () => {
  const store = new S3ArtifactStore({ bucket: 'cahoots-artifacts', prefix: 'artifacts/' });

  it('writes under the prefix without SSE parameters (the bucket default key applies)', async () => {
    s3.on(PutObjectCommand).resolves({});
    await store.put('goals/g1/checkpoint.json', '{"turn":3}', 'application/json');
    const sent = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(sent).toMatchObject({ Bucket: 'cahoots-artifacts', Key: 'artifacts/goals/g1/checkpoint.json', ContentType: 'application/json' });
    expect(sent?.ServerSideEncryption).toBeUndefined();
    expect(sent?.SSEKMSKeyId).toBeUndefined();
  });

  it('reads bytes back and answers undefined for a missing key', async () => {
    // The SDK's streaming body, reduced to the one method the adapter uses.
    const body = { transformToByteArray: async () => new Uint8Array(Buffer.from('hello')) };
    s3.on(GetObjectCommand, { Key: 'artifacts/a' }).resolves({ Body: body as never });
    s3.on(GetObjectCommand, { Key: 'artifacts/missing' }).rejects(new NoSuchKey({ message: 'no', $metadata: {} }));
    expect(Buffer.from((await store.get('a')) ?? []).toString()).toBe('hello');
    expect(await store.get('missing')).toBeUndefined();
  });

  it('refuses keys S3 would store ambiguously', async () => {
    await expect(store.put('/abs', 'x')).rejects.toThrow(/starts with/);
    await expect(store.get('')).rejects.toThrow(/empty/);
  });
});

describe('SecretsManagerSecrets', () => {
  it('caches values and absences for the TTL, then asks again', async () => {
    let clock = 0;
    const secrets = new SecretsManagerSecrets({ prefix: 'cahoots/acme/', cacheTtlSeconds: 60, now: () => clock });
    secretsManager.on(GetSecretValueCommand, { SecretId: 'cahoots/acme/github-token' }).resolves({ SecretString: 'ghp_1' });
    secretsManager
      .on(GetSecretValueCommand, { SecretId: 'cahoots/acme/absent' })
      .rejects(new ResourceNotFoundException({ message: 'no', $metadata: {} }));

    const [a, b] = await Promise.all([secrets.get('github-token'), secrets.get('github-token')]);
    expect([a, b]).toEqual(['ghp_1', 'ghp_1']);
    expect(await secrets.get('absent')).toBeUndefined();
    expect(await secrets.get('absent')).toBeUndefined();
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);

    clock += 61_000;
    await secrets.get('github-token');
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(3);
  });

  it('does not hide other errors', async () => {
    secretsManager.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException'));
    await expect(new SecretsManagerSecrets().get('x')).rejects.toThrow('AccessDenied');
  });
});

describe('SqsWorkQueue', () => {
  it('sends the body as JSON with the delay, and refuses delays SQS would refuse', async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm1' });
    const queue = new SqsWorkQueue();
    await queue.send('https://sqs.us-east-1.amazonaws.com/123456789012/developer', { taskId: 't1' }, { delaySeconds: 5 });
    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input).toMatchObject({
      QueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/developer',
      MessageBody: '{"taskId":"t1"}',
      DelaySeconds: 5,
    });
    await expect(queue.send('u', {}, { delaySeconds: 901 })).rejects.toBeInstanceOf(InvalidDelaySecondsError);
    await expect(queue.send('u', {}, { delaySeconds: 1.5 })).rejects.toBeInstanceOf(InvalidDelaySecondsError);
  });
});

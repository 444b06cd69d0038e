import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactKeyConflictError, DirectoryArtifactStore, InvalidArtifactKeyError } from '../../lib/local/artifact-store';
import { LocalSecrets, LocalSecretsFileError, secretEnvName } from '../../lib/local/secrets';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cahoots-local-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('DirectoryArtifactStore', () => {
  it('stores and reads keys with S3-style slashes, and answers undefined for a missing key', async () => {
    const store = new DirectoryArtifactStore(join(dir, 'artifacts'));
    await store.put('goals/g1/checkpoint.json', '{"turn":1}');
    await store.put('goals/g1/checkpoint.json', '{"turn":2}');
    await store.put('goals/g1/diff.bin', new Uint8Array([0, 1, 2]));
    expect(Buffer.from((await store.get('goals/g1/checkpoint.json')) ?? []).toString()).toBe('{"turn":2}');
    expect([...((await store.get('goals/g1/diff.bin')) ?? [])]).toEqual([0, 1, 2]);
    expect(await store.get('goals/g2/checkpoint.json')).toBeUndefined();
    // No temporary files left behind by the atomic write.
    expect((await readdir(join(dir, 'artifacts', 'goals', 'g1'))).sort()).toEqual(['checkpoint.json', 'diff.bin']);
  });

  it('takes a key whose segment starts with two dots as an ordinary name', async () => {
    const store = new DirectoryArtifactStore(join(dir, 'artifacts'));
    await store.put('..cache/x.json', '{}');
    expect(Buffer.from((await store.get('..cache/x.json')) ?? []).toString()).toBe('{}');
  });

  it.each(['../escape', 'a/../../b', '/etc/passwd', 'a\\..\\b', 'a//b', './a', 'a/.', '', 'nul\u0000byte'])(
    'refuses key %j',
    async (key) => {
      const store = new DirectoryArtifactStore(join(dir, 'artifacts'));
      await expect(store.put(key, 'x')).rejects.toBeInstanceOf(InvalidArtifactKeyError);
      await expect(store.get(key)).rejects.toBeInstanceOf(InvalidArtifactKeyError);
    },
  );

  it('reports a key that collides with a directory of other keys', async () => {
    const store = new DirectoryArtifactStore(join(dir, 'conflict'));
    await store.put('a/b', 'x');
    await expect(store.put('a', 'y')).rejects.toBeInstanceOf(ArtifactKeyConflictError);
    expect(await store.get('a')).toBeUndefined();
  });
});

describe('LocalSecrets', () => {
  it('reads CAHOOTS_SECRET_<NAME> first, then the JSON file', async () => {
    const file = join(dir, 'secrets.json');
    await writeFile(file, JSON.stringify({ 'github/token': 'from-file', 'openai-key': 'sk-file' }));
    const secrets = new LocalSecrets({ env: { CAHOOTS_SECRET_GITHUB_TOKEN: 'from-env' }, file });
    expect(secretEnvName('github/token')).toBe('CAHOOTS_SECRET_GITHUB_TOKEN');
    expect(await secrets.get('github/token')).toBe('from-env');
    expect(await secrets.get('openai-key')).toBe('sk-file');
    expect(await secrets.get('absent')).toBeUndefined();
    expect(await secrets.get('toString')).toBeUndefined();
  });

  it('takes github/token from GITHUB_TOKEN when CAHOOTS_SECRET_GITHUB_TOKEN is not set, before the file', async () => {
    const file = join(dir, 'secrets.json');
    await writeFile(file, JSON.stringify({ 'github/token': 'from-file' }));
    expect(await new LocalSecrets({ env: { GITHUB_TOKEN: 'ghp_env' }, file }).get('github/token')).toBe('ghp_env');
    expect(await new LocalSecrets({ env: { GITHUB_TOKEN: 'ghp_env', CAHOOTS_SECRET_GITHUB_TOKEN: 'own' }, file }).get('github/token')).toBe('own');
    expect(await new LocalSecrets({ env: { GITHUB_TOKEN: '' }, file }).get('github/token')).toBe('from-file');
    // Only the secret it stands for: another name never reads GITHUB_TOKEN.
    expect(await new LocalSecrets({ env: { GITHUB_TOKEN: 'ghp_env' } }).get('git/token')).toBeUndefined();
  });

  it('treats a missing file as empty and a malformed one as an error', async () => {
    expect(await new LocalSecrets({ env: {}, file: join(dir, 'nope.json') }).get('x')).toBeUndefined();
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ nested: { no: 1 } }));
    await expect(new LocalSecrets({ env: {}, file: bad }).get('x')).rejects.toBeInstanceOf(LocalSecretsFileError);
  });
});

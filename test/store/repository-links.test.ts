// Finding projects by repository (the GitHub webhook's lookup): the address a URL reduces to, and
// the link items written with a project, on dynalite.
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repositoryAddress } from '../../lib/domain/project';
import { createStore, type Store } from '../../lib/store/index';
import { repositoryLinkKey } from '../../lib/store/keys';
import { startDynalite, type LocalDynamo } from '../support/dynalite';

let db: LocalDynamo;
let store: Store;

beforeAll(async () => {
  db = await startDynalite();
  store = createStore(db.store);
});
afterAll(() => db.stop());

describe('repositoryAddress', () => {
  it.each([
    ['https://github.com/acme/shop.git', 'github.com/acme/shop'],
    ['https://github.com/Acme/Shop', 'github.com/acme/shop'],
    ['https://github.com/acme/shop/', 'github.com/acme/shop'],
    ['git@github.com:acme/shop.git', 'github.com/acme/shop'],
    ['ssh://git@github.com/acme/shop.git', 'github.com/acme/shop'],
    ['http://127.0.0.1:8417/acme/shop.git', '127.0.0.1:8417/acme/shop'],
    ['https://git.example.com/group/sub/shop.git', 'git.example.com/group/sub/shop'],
  ])('%s → %s', (url, address) => {
    expect(repositoryAddress(url)).toBe(address);
  });

  it('names no repository for file:// or host-only URLs', () => {
    expect(repositoryAddress('file:///srv/git/shop.git')).toBeUndefined();
    expect(repositoryAddress('https://github.com/')).toBeUndefined();
    expect(repositoryAddress('not a url')).toBeUndefined();
  });
});

describe('findByRepository', () => {
  it('finds every project on a repository however its URL was written, oldest first, and no other', async () => {
    const first = await store.projects.create({ name: 'shop', repo: { url: 'https://github.com/acme/webshop.git' } });
    const second = await store.projects.create({ name: 'shop docs', repo: { url: 'git@github.com:Acme/WebShop' } });
    await store.projects.create({ name: 'other', repo: { url: 'https://github.com/acme/other.git' } });
    await store.projects.create({ name: 'local', repo: { path: '/srv/webshop' } });
    const found = await store.projects.findByRepository('github.com/acme/webshop');
    expect(found.map((p) => p.id)).toEqual([first.id, second.id]);
    expect(await store.projects.findByRepository('github.com/acme/nothing')).toEqual([]);
  });

  it('links a project that has no link yet on its next settings change', async () => {
    const project = await store.projects.create({ name: 'legacy', repo: { url: 'https://github.com/acme/legacy.git' } });
    // As if stored before links existed.
    await db.store.client.send(new DeleteCommand({ TableName: db.store.tableName, Key: repositoryLinkKey('github.com/acme/legacy', project.id) }));
    expect(await store.projects.findByRepository('github.com/acme/legacy')).toEqual([]);
    await store.projects.updateSettings(project.id, { maxParallelTasks: 2 });
    expect((await store.projects.findByRepository('github.com/acme/legacy')).map((p) => p.id)).toEqual([project.id]);
  });
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import { CachedKeyLookup } from './cached-key-lookup.ts';
import { FileKeyStore } from './file-key-store.ts';
import { DuplicateKeyError, type KeyStore } from './key-store.ts';
import { hashSecret, issueKey } from './virtual-key.ts';

const POSTGRES_URL = process.env.COSTGATE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

function suite(name: string, open: () => Promise<KeyStore>): void {
  test(`${name}: keys are found by the hash of their secret, never stored in clear`, async () => {
    const store = await open();
    try {
      const { secret, key } = issueKey({ name: 'search team', team: 'search', models: ['gpt-4o*'], limits: { requestsPerMinute: 60, dailyBudget: 25_000_000_000_000n } });
      await store.create(key);
      const found = await store.findByHash(hashSecret(secret));
      assert.deepEqual(found, key);
      assert.equal(key.id, hashSecret(secret).slice(0, 12));
      assert.equal(await store.findByHash(hashSecret(`${secret}x`)), undefined);
      const listed = await store.list();
      assert.ok(listed.some((item) => item.id === key.id));
      assert.ok(!JSON.stringify(listed, (_name, value: unknown) => (typeof value === 'bigint' ? String(value) : value)).includes(secret));
      await assert.rejects(store.create(key), DuplicateKeyError);
    } finally {
      await store.close();
    }
  });

  test(`${name}: revoking keeps the key (for the ledger's history) with the first revocation time`, async () => {
    const store = await open();
    try {
      const { secret, key } = issueKey({ name: 'customer acme', customer: 'acme', limits: {} });
      await store.create(key);
      assert.equal(await store.revoke(key.id, 1000), true);
      assert.equal(await store.revoke(key.id, 2000), true);
      assert.equal((await store.findByHash(hashSecret(secret)))?.revokedAt, 1000);
      assert.equal(await store.revoke('000000000000'), false);
    } finally {
      await store.close();
    }
  });
}

const directory = mkdtempSync(join(tmpdir(), 'costgate-keys-'));
const keyFile = join(directory, 'keys.json');
suite('file', async () => new FileKeyStore(keyFile));

const schema = `keys_test_${randomUUID().replaceAll('-', '')}`;
suite('postgres', async () => new (await import('./postgres-key-store.ts')).PostgresKeyStore({ url: POSTGRES_URL, schema }));

test('postgres schema setup races safely (two replicas starting together)', async () => {
  const { PostgresKeyStore } = await import('./postgres-key-store.ts');
  const raceSchema = `${schema}_race`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA "${raceSchema}"`);
  const stores = [0, 1, 2].map(() => new PostgresKeyStore({ url: POSTGRES_URL, schema: raceSchema }));
  try {
    const lists = await Promise.all(stores.map((store) => store.list()));
    assert.deepEqual(lists, [[], [], []]);
  } finally {
    for (const store of stores) await store.close();
    await admin.query(`DROP SCHEMA "${raceSchema}" CASCADE`);
    await admin.end();
  }
});

test('the key file holds hashes, not secrets', async () => {
  const store = new FileKeyStore(join(directory, 'other.json'));
  const { secret, key } = issueKey({ name: 'x', limits: {} });
  await store.create(key);
  const text = readFileSync(join(directory, 'other.json'), 'utf8');
  assert.ok(text.includes(key.hash));
  assert.ok(!text.includes(secret));
});

test('lookups are cached for the ttl: a revocation is seen once it passes', async () => {
  const store = new FileKeyStore(join(directory, 'cached.json'));
  let now = 0;
  const lookup = new CachedKeyLookup(store, 5_000, () => now);
  const { secret, key } = issueKey({ name: 'x', limits: {} });
  assert.equal(await lookup.find(secret), undefined);
  await store.create(key);
  // A miss is cached too (a flood of bad keys does not reach the store), for the same short time.
  assert.equal(await lookup.find(secret), undefined);
  now = 5_000;
  assert.equal((await lookup.find(secret))?.id, key.id);
  await store.revoke(key.id, 6_000);
  now = 9_999;
  assert.equal((await lookup.find(secret))?.revokedAt, undefined);
  now = 10_000;
  assert.equal((await lookup.find(secret))?.revokedAt, 6_000);
});

test('while the store cannot be read, a key already seen keeps working; an unseen one is an error', async () => {
  const inner = new FileKeyStore(join(directory, 'flaky.json'));
  let down = false;
  const flaky: KeyStore = {
    create: (key) => inner.create(key),
    findByHash: (hash) => (down ? Promise.reject(new Error('store down')) : inner.findByHash(hash)),
    list: () => inner.list(),
    revoke: (id, at) => inner.revoke(id, at),
    close: () => inner.close(),
  };
  let now = 0;
  const lookup = new CachedKeyLookup(flaky, 1_000, () => now);
  const { secret, key } = issueKey({ name: 'x', limits: {} });
  await flaky.create(key);
  assert.equal((await lookup.find(secret))?.id, key.id);
  down = true;
  now = 5_000;
  assert.equal((await lookup.find(secret))?.id, key.id);
  await assert.rejects(lookup.find('cg-never-seen'), /store down/);
});

// Before the suites' Postgres tests create the schema, make it; drop it at the end.
const setup = new pg.Client({ connectionString: POSTGRES_URL });
await setup.connect();
await setup.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
after(async () => {
  await setup.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await setup.end();
  rmSync(directory, { recursive: true, force: true });
});

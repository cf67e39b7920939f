import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { CachedResponse, ResponseStore } from './response-store.ts';

/**
 * One suite for every ResponseStore (in-memory, Redis): what the cache stages and the semantic
 * index rely on. `create(maxEntryBytes)` returns a store that refuses entries larger than about
 * that; `settle` waits until a store's writes are visible to its reads.
 */
export interface StoreUnderTest {
  create(maxEntryBytes: number): Promise<ResponseStore>;
  /** Runs after every test of the suite (closing connections, deleting keys). */
  cleanup?(): Promise<void>;
}

export function sampleEntry(key: string, now: number, overrides: Partial<CachedResponse> = {}): CachedResponse {
  return {
    key,
    tenant: 'tenant-a',
    provider: 'openai',
    endpoint: 'chat.completions',
    stream: false,
    status: 200,
    headers: { 'content-type': 'application/json', 'x-request-id': ['one', 'two'] },
    body: Buffer.from(JSON.stringify({ answer: `for ${key}` })),
    requestedModel: 'gpt-4o-mini',
    servedModel: 'gpt-4o-mini-2024-07-18',
    stopReason: 'stop',
    usage: { input: { total: 10, noCache: 10 }, output: { total: 5 } },
    requestId: `request-${key}`,
    createdAt: now,
    expiresAt: now + 60_000,
    ...overrides,
  };
}

function semanticEntry(key: string, now: number, requestId = `request-${key}`): CachedResponse {
  return sampleEntry(key, now, { requestId, semantic: { partition: 'partition-1', prompt: `what is ${key}?`, vector: Float32Array.from([0.6, 0.8, 0]), feature: 'faq' } });
}

export function responseStoreSuite(name: string, subject: StoreUnderTest): void {
  describe(`response store: ${name}`, () => {
    const stores: ResponseStore[] = [];
    const open = async (maxEntryBytes = 1_000_000) => {
      const store = await subject.create(maxEntryBytes);
      stores.push(store);
      await store.ready;
      return store;
    };
    after(async () => {
      for (const store of stores) await store.close();
      await subject.cleanup?.();
    });

    test('an entry comes back whole, vector included', async () => {
      const store = await open();
      const now = Date.now();
      const original = semanticEntry('whole', now);
      await store.set(original);
      await store.flush();
      const found = await store.get('whole', now);
      assert.deepEqual(found, original);
      assert.deepEqual(await store.peek('whole'), original);
      assert.equal(await store.get('absent', now), undefined);
    });

    test('an expired entry is not served', async () => {
      const store = await open();
      const now = Date.now();
      await store.set(sampleEntry('short', now, { expiresAt: now + 30_000 }));
      await store.flush();
      assert.ok(await store.get('short', now + 29_000));
      assert.equal(await store.get('short', now + 30_000), undefined);
    });

    test('an entry that expired before it was stored is not kept', async () => {
      const store = await open();
      const now = Date.now();
      await store.set(sampleEntry('stale', now - 120_000, { expiresAt: now - 60_000 }));
      await store.flush();
      assert.equal(await store.get('stale', now), undefined);
    });

    test('an entry over the size bound is not stored', async () => {
      const store = await open(2_000_000);
      const now = Date.now();
      await store.set(sampleEntry('huge', now, { body: Buffer.alloc(3_000_000, 65) }));
      await store.set(sampleEntry('fits', now, { body: Buffer.alloc(100_000, 65) }));
      await store.flush();
      assert.equal(await store.peek('huge'), undefined);
      assert.equal((await store.peek('fits'))?.body.length, 100_000);
    });

    test('keys stay apart: one tenant key never returns another tenant entry', async () => {
      const store = await open();
      const now = Date.now();
      await store.set(sampleEntry('key-a', now, { tenant: 'tenant-a' }));
      await store.set(sampleEntry('key-b', now, { tenant: 'tenant-b', body: Buffer.from('b') }));
      await store.flush();
      assert.equal((await store.get('key-a', now))?.tenant, 'tenant-a');
      assert.equal((await store.get('key-b', now))?.tenant, 'tenant-b');
    });

    test('listeners see entries added, replaced and deleted; entries() lists indexed entries', async () => {
      const store = await open();
      const now = Date.now();
      const added: string[] = [];
      const removed: string[] = [];
      store.subscribe({ added: (entry) => added.push(entry.requestId), removed: (entry) => removed.push(entry.requestId) });
      await store.set(semanticEntry('listened', now, 'first'));
      await store.set(semanticEntry('listened', now, 'second'));
      await store.flush();
      assert.deepEqual(added, ['first', 'second']);
      assert.deepEqual(removed, ['first']);
      const listed = [...store.entries()].filter((entry) => entry.key === 'listened');
      assert.equal(listed.length, 1);
      assert.equal(listed[0]?.requestId, 'second');
      assert.deepEqual(listed[0]?.semantic?.vector, Float32Array.from([0.6, 0.8, 0]));
      await store.delete('listened');
      assert.deepEqual(removed, ['first', 'second']);
      assert.equal(await store.peek('listened'), undefined);
      assert.equal([...store.entries()].some((entry) => entry.key === 'listened'), false);
    });
  });
}

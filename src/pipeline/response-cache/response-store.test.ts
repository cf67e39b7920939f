import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../../config/load-config.ts';
import { decodeEntry, encodeEntry } from './file-persistence.ts';
import { ResponseCache } from './response-cache.ts';
import { entryBytes, MemoryResponseStore, type CachedResponse } from './response-store.ts';
import { responseStoreSuite } from './response-store-suite.ts';

responseStoreSuite('in memory', { create: async (maxEntryBytes) => new MemoryResponseStore({ maxBytes: maxEntryBytes }) });

function entry(key: string, bodyBytes = 1000, overrides: Partial<CachedResponse> = {}): CachedResponse {
  return {
    key,
    tenant: 't',
    provider: 'openai',
    endpoint: 'chat.completions',
    stream: false,
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: Buffer.alloc(bodyBytes, 120),
    requestedModel: 'gpt-4o-mini',
    servedModel: 'gpt-4o-mini-2024-07-18',
    stopReason: 'stop',
    usage: { input: { total: 10 }, output: { total: 5 } },
    requestId: `request-${key}`,
    createdAt: 1_000,
    expiresAt: 10_000,
    ...overrides,
  };
}

test('least recently used entries leave first once the byte bound is reached', async () => {
  const size = entryBytes(entry('a'));
  const store = new MemoryResponseStore({ maxBytes: size * 3 });
  const removed: string[] = [];
  store.subscribe({ removed: (item) => removed.push(item.key) });
  await store.set(entry('a'));
  await store.set(entry('b'));
  await store.set(entry('c'));
  assert.ok(await store.get('a', 2_000)); // a is now the most recent
  await store.set(entry('d'));
  assert.deepEqual(removed, ['b']);
  assert.equal(store.size, 3);
  assert.ok(store.bytes <= size * 3);
  await store.set(entry('huge', size * 10));
  assert.equal(await store.peek('huge'), undefined, 'an entry larger than the whole bound is not kept');
});

test('expired entries are not served and are swept', async () => {
  const store = new MemoryResponseStore({ maxBytes: 1_000_000 });
  await store.set(entry('a', 10, { expiresAt: 5_000 }));
  await store.set(entry('b', 10, { expiresAt: 50_000 }));
  assert.equal(await store.get('a', 5_000), undefined);
  assert.equal(store.sweep(60_000), 1);
  assert.equal(store.size, 0);
});

test('entries round-trip through their file format, vectors included', () => {
  const vector = Float32Array.from([0.6, 0.8, 0]);
  const original = entry('k', 50, { stream: true, body: Buffer.from([0, 1, 2, 255]), semantic: { partition: 'p', prompt: 'what?', vector, feature: 'faq' } });
  const decoded = decodeEntry(encodeEntry(original));
  assert.deepEqual(decoded, original);
});

test('a restarted cache finds its entries again; expired ones are dropped', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'costgate-cache-'));
  try {
    const config = parseConfig({ responseCache: { default: { exact: 'on' } } }).responseCache;
    const first = new ResponseCache(config, directory);
    await first.store.ready;
    const now = Date.now();
    await first.store.set(entry('live', 100, { createdAt: now, expiresAt: now + 60_000 }));
    await first.store.set(entry('dead', 100, { createdAt: now, expiresAt: now + 1 }));
    await first.store.set(entry('gone', 100, { createdAt: now, expiresAt: now + 60_000 }));
    await first.store.delete('gone');
    await first.close();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = new ResponseCache(config, directory);
    await second.store.ready;
    assert.equal((await second.store.get('live', Date.now()))?.body.length, 100);
    assert.equal(await second.store.peek('dead'), undefined);
    assert.equal(await second.store.peek('gone'), undefined);
    await second.close();
    assert.deepEqual(readdirSync(join(directory, 'response-cache', 'entries')), ['live.entry']);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import { KEYS_DEFAULTS } from '../config/keys-config.ts';
import { hashSecret, issueKey } from './virtual-key.ts';
import { openKeyStore } from './open-key-store.ts';

const POSTGRES_URL = process.env.COSTGATE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `keys_open_${randomUUID().replaceAll('-', '')}`;
const directory = mkdtempSync(join(tmpdir(), 'costgate-open-keys-'));

after(async () => {
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
  rmSync(directory, { recursive: true, force: true });
});

test('replicas on one Postgres ledger share its keys without a separate key setting', async () => {
  const ledgerUrl = `${POSTGRES_URL}?schema=${schema}`;
  const writer = openKeyStore(KEYS_DEFAULTS, ledgerUrl);
  const reader = openKeyStore(KEYS_DEFAULTS, ledgerUrl);
  try {
    const { secret, key } = issueKey({ name: 'team-a', limits: {} });
    await writer.create(key);
    const found = await reader.findByHash(hashSecret(secret));
    assert.equal(found?.id, key.id);
    // Nothing was written beside a file path derived from the URL.
    assert.equal(existsSync('postgres:'), false);
  } finally {
    await writer.close();
    await reader.close();
  }
});

test('a DuckDB ledger keeps keys.json in its local folder, or in ledger.localDir when set', async () => {
  const ledgerPath = join(directory, 'ledger.duckdb');
  const beside = openKeyStore(KEYS_DEFAULTS, ledgerPath);
  const elsewhere = openKeyStore(KEYS_DEFAULTS, ledgerPath, join(directory, 'local'));
  try {
    await beside.create(issueKey({ name: 'beside', limits: {} }).key);
    await elsewhere.create(issueKey({ name: 'elsewhere', limits: {} }).key);
    assert.ok(existsSync(join(directory, 'keys.json')));
    assert.ok(existsSync(join(directory, 'local', 'keys.json')));
  } finally {
    await beside.close();
    await elsewhere.close();
  }
});

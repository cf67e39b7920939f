import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import pg from 'pg';
import { parseConfig, resolveUpstreams, type LoadedConfig } from '../src/config/load-config.ts';
import { startEmulator } from '../src/emulator/index.ts';
import { TEST_POSTGRES_URL, testSchemas } from '../src/ledger/testing/postgres-schemas.ts';
import { startGateway, type RunningGateway } from '../src/server/start-gateway.ts';
import { startTcpProxy } from './support/tcp-proxy.ts';

const schemas = testSchemas('costgate_outage_test');
after(() => schemas.dropAll());

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

/** Waits for a condition with no deadline of its own: the test's timeout bounds it. */
async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await sleep(50);
}

test('with Postgres unreachable the gateway keeps serving; every call is stored exactly once when it is back, across a restart too', { timeout: 120_000 }, async () => {
  const emulator = await startEmulator({ port: 0 });
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
  const directory = mkdtempSync(join(tmpdir(), 'costgate-pg-outage-'));
  const schema = schemas.next();
  const viaProxy = new URL(TEST_POSTGRES_URL);
  viaProxy.port = String(proxy.port);
  const ledgerUrl = schemas.url(schema, viaProxy.toString());
  const environment = {
    OPENAI_BASE_URL: `${emulator.url}/v1`,
    OPENAI_API_KEY: 'sk-gateway-key',
    ANTHROPIC_BASE_URL: emulator.url,
    ANTHROPIC_API_KEY: 'sk-ant-gateway-key',
  };
  const config = parseConfig({ ledger: { path: ledgerUrl, localDir: directory, flushIntervalMs: 100 } }, environment, 'test');
  const loaded: LoadedConfig = { config, upstreams: resolveUpstreams(config, environment), source: 'test' };
  // A fixed port, so the restarted replica finds the spool the first one left (it is keyed by address).
  const port = await freePort();
  const direct = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await direct.connect();
  let gateway: RunningGateway | undefined;
  try {
    gateway = await startGateway({ loaded, port, host: '127.0.0.1', log: () => {} });
    const requestIds: string[] = [];
    const call = async (url: string, index: number): Promise<void> => {
      if (index % 2 === 0) {
        const client = new OpenAI({ apiKey: 'sk-client', baseURL: `${url}/v1`, maxRetries: 0 });
        const { response } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `question ${index}` }] }, { headers: { 'x-costgate-feature': 'outage' } }).withResponse();
        requestIds.push(response.headers.get('x-costgate-request-id') ?? '');
      } else {
        const client = new Anthropic({ apiKey: 'sk-ant-client', baseURL: url, maxRetries: 0 });
        const { response } = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: `question ${index}` }] }, { headers: { 'x-costgate-feature': 'outage' } }).withResponse();
        requestIds.push(response.headers.get('x-costgate-request-id') ?? '');
      }
    };
    const stored = async (): Promise<Map<string, number>> => {
      const result = await direct.query<{ request_id: string; copies: string }>(`SELECT request_id, count(*) AS copies FROM ${schema}.usage_events GROUP BY request_id`);
      return new Map(result.rows.map((row) => [row.request_id, Number(row.copies)]));
    };

    for (let index = 0; index < 4; index += 1) await call(gateway.url, index);
    await gateway.recorder.flush();
    assert.equal((await stored()).size, 4, 'before the outage, calls reach Postgres');

    // Outage while running: calls still answer, their events wait in the spool.
    await proxy.cut();
    for (let index = 4; index < 14; index += 1) await call(gateway.url, index);
    await assert.rejects(gateway.recorder.flush(), 'the ledger really is unreachable');
    assert.ok(gateway.recorder.pending() >= 10);
    await proxy.restore();
    // The recorder's own retries bring them in; nobody calls flush.
    const running = gateway;
    await until(() => running.recorder.pending() === 0);
    let copies = await stored();
    assert.equal(copies.size, 14);
    for (const requestId of requestIds) assert.equal(copies.get(requestId), 1, `${requestId} stored once`);

    // Outage across a restart: the replica stops with events it could not store, and the one
    // started on the same address replays them from the spool.
    await proxy.cut();
    for (let index = 14; index < 20; index += 1) await call(gateway.url, index);
    await assert.rejects(gateway.close(), /not in the ledger yet/);
    gateway = undefined;
    await proxy.restore();
    gateway = await startGateway({ loaded, port, host: '127.0.0.1', log: () => {} });
    const restarted = gateway;
    await until(() => restarted.recorder.pending() === 0);
    copies = await stored();
    assert.equal(requestIds.length, 20);
    assert.equal(new Set(requestIds).size, 20);
    assert.equal(copies.size, 20);
    for (const requestId of requestIds) assert.equal(copies.get(requestId), 1, `${requestId} stored once`);
    const [row] = await restarted.ledger.get([requestIds[15] ?? '']);
    assert.equal(row?.attribution.feature, 'outage');
    assert.ok((row?.usage.output.total ?? 0) > 0);
  } finally {
    await gateway?.close().catch(() => undefined);
    await direct.end();
    await proxy.close();
    await emulator.close();
    rmSync(directory, { recursive: true, force: true });
  }
});

test('a gateway started while Postgres is unreachable serves, and sets the ledger up and stores the calls once it answers', { timeout: 120_000 }, async () => {
  const emulator = await startEmulator({ port: 0 });
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
  const directory = mkdtempSync(join(tmpdir(), 'costgate-pg-outage-'));
  const schema = schemas.next();
  const viaProxy = new URL(TEST_POSTGRES_URL);
  viaProxy.port = String(proxy.port);
  const environment = { OPENAI_BASE_URL: `${emulator.url}/v1`, OPENAI_API_KEY: 'sk-gateway-key' };
  const config = parseConfig({ ledger: { path: schemas.url(schema, viaProxy.toString()), localDir: directory, flushIntervalMs: 100 } }, environment, 'test');
  const loaded: LoadedConfig = { config, upstreams: resolveUpstreams(config, environment), source: 'test' };
  const direct = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await direct.connect();
  await proxy.cut();
  const logged: string[] = [];
  const gateway = await startGateway({ loaded, port: 0, host: '127.0.0.1', log: (line) => logged.push(line) });
  try {
    assert.ok(logged.some((line) => /unreachable at start/.test(line)), logged.join('\n'));
    const client = new OpenAI({ apiKey: 'sk-client', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
    const requestIds: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      const { response } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `cold ${index}` }] }).withResponse();
      requestIds.push(response.headers.get('x-costgate-request-id') ?? '');
    }
    await assert.rejects(gateway.recorder.flush());
    const schemaBefore = await direct.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    assert.equal(schemaBefore.rowCount, 0, 'nothing reached Postgres yet');
    await proxy.restore();
    await until(() => gateway.recorder.pending() === 0);
    const result = await direct.query<{ request_id: string; copies: string }>(`SELECT request_id, count(*) AS copies FROM ${schema}.usage_events GROUP BY request_id`);
    assert.deepEqual(result.rows.map((row) => [row.request_id, Number(row.copies)]).sort(), requestIds.map((requestId) => [requestId, 1]).sort());
  } finally {
    await gateway.close().catch(() => undefined);
    await direct.end();
    await proxy.close();
    await emulator.close();
    rmSync(directory, { recursive: true, force: true });
  }
});

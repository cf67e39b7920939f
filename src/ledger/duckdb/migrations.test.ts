import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { usageEvent } from '../testing/usage-event-fixtures.ts';
import { openDuckDbLedger } from './duckdb-ledger.ts';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, migrate } from './migrations.ts';

const folder = mkdtempSync(join(tmpdir(), 'costgate-duckdb-migrations-'));
after(() => rmSync(folder, { recursive: true, force: true }));
let files = 0;

async function withRawDatabase<T>(path: string, work: (connection: Awaited<ReturnType<DuckDBInstance['connect']>>) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  try {
    return await work(connection);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function appliedVersions(path: string): Promise<number[]> {
  return withRawDatabase(path, async (connection) =>
    (await connection.runAndReadAll('SELECT version FROM schema_migrations ORDER BY version')).getRowsJS().map(([version]) => Number(version)),
  );
}

describe('DuckDB ledger migrations', () => {
  it('are numbered from 1, strictly increasing', () => {
    const versions = MIGRATIONS.map(({ version }) => version);
    assert.equal(versions[0], 1);
    for (const [index, version] of versions.entries()) if (index > 0) assert.ok(version > (versions[index - 1] ?? 0), `migration ${version} out of order`);
  });

  it('a file holding a later version still gets an earlier one that was missing', async () => {
    const path = join(folder, `ledger-${++files}.duckdb`);
    const withoutSecond = MIGRATIONS.filter(({ version }) => version !== 2);
    await withRawDatabase(path, (connection) => migrate(connection, withoutSecond));
    assert.ok(!(await appliedVersions(path)).includes(2));
    await withRawDatabase(path, (connection) => migrate(connection, MIGRATIONS));
    assert.deepEqual(await appliedVersions(path), MIGRATIONS.map(({ version }) => version));
  });

  it('opening a file at the latest version that misses an earlier step runs that step', async () => {
    const path = join(folder, `ledger-${++files}.duckdb`);
    const withoutOutcomes = MIGRATIONS.filter(({ version }) => version !== 7);
    await withRawDatabase(path, (connection) => migrate(connection, withoutOutcomes));
    assert.equal(Math.max(...(await appliedVersions(path))), MIGRATIONS.at(-1)?.version);
    const ledger = await openDuckDbLedger({ path });
    await ledger.recordOutcomes([{ requestId: 'r', time: Date.UTC(2026, 11, 1), source: 'feedback', model: 'm', score: 1, feature: undefined, prompt: undefined }]);
    assert.equal((await ledger.outcomes()).length, 1);
    await ledger.close();
    assert.deepEqual(await appliedVersions(path), MIGRATIONS.map(({ version }) => version));
  });

  it('a new file gets every migration', async () => {
    const path = join(folder, `ledger-${++files}.duckdb`);
    await (await openDuckDbLedger({ path })).close();
    assert.deepEqual(await appliedVersions(path), MIGRATIONS.map(({ version }) => version));
  });

  it('opening a version 1 file migrates it and keeps its rows', async () => {
    const path = join(folder, `ledger-${++files}.duckdb`);
    await withRawDatabase(path, async (connection) => {
      await migrate(connection, MIGRATIONS.slice(0, 1));
      await connection.run(`INSERT INTO usage_events
        (request_id, time, provider, endpoint, requested_model, served_model, feature, tags, stream, status, latency_ms,
         input_total, output_total, cost_picousd, baseline_cost_picousd, price_version)
        VALUES ('old-1', make_timestamp(${Date.UTC(2026, 0, 2) * 1000}::BIGINT), 'openai', 'chat.completions', 'gpt-4o', 'gpt-4o',
         'search', '{"team":"core"}', false, 200, 12.5, 10, 0, 42, 42, 'v1-prices')`);
    });
    assert.deepEqual(await appliedVersions(path), [1]);

    const ledger = await openDuckDbLedger({ path });
    const [old] = await ledger.get(['old-1']);
    assert.equal(old?.time, Date.UTC(2026, 0, 2));
    assert.equal(old?.cost, 42n);
    assert.deepEqual(old?.usage, { input: { total: 10 }, output: { total: 0 } });
    assert.deepEqual(old?.attribution, { feature: 'search', tags: { team: 'core' } });
    assert.equal('cacheStatus' in (old ?? {}), false);
    const [row] = await ledger.report({ by: 'feature' });
    assert.deepEqual([row?.key, row?.cost], ['search', 42n]);
    await ledger.close();
    assert.deepEqual(await appliedVersions(path), MIGRATIONS.map(({ version }) => version));
  });

  it('opening a version 10 file fills lever_effects from the stored levers JSON; savings and rows read the same', async () => {
    const path = join(folder, `ledger-${++files}.duckdb`);
    const time = Date.UTC(2026, 10, 2) * 1000;
    await withRawDatabase(path, async (connection) => {
      await migrate(connection, MIGRATIONS.filter(({ version }) => version <= 10));
      const row = (id: string, feature: string, levers: string | null) =>
        `('${id}', make_timestamp(${time}::BIGINT), 'openai', 'chat.completions', '${feature}', '{}', false, 200, 1.0, 100, ${levers === null ? 'NULL' : `'${levers}'`})`;
      await connection.run(`INSERT INTO usage_events (request_id, time, provider, endpoint, feature, tags, stream, status, latency_ms, cost_picousd, levers) VALUES
        ${row('v10-a', 'chat', '[{"lever":"routing","saving":"9223372036854775807","estimated":false,"detail":{"from":"gpt-4o"}},{"lever":"prompt_cache","saving":"-5","estimated":true}]')},
        ${row('v10-b', 'chat', '[{"lever":"routing","saving":"1","estimated":false}]')},
        ${row('v10-c', 'search', '[]')},
        ${row('v10-d', 'search', null)}`);
    });

    const ledger = await openDuckDbLedger({ path });
    const savings = await ledger.savings({ by: 'feature' });
    assert.deepEqual(
      savings.map(({ lever, key, requests, measured, estimated }) => [lever, key, requests, measured, estimated]),
      [
        ['routing', 'chat', 2, 9_223_372_036_854_775_808n, 0n],
        ['prompt_cache', 'chat', 1, 0n, -5n],
      ],
    );
    const [first] = await ledger.get(['v10-a']);
    assert.deepEqual(first?.levers, [
      { lever: 'routing', saving: 9_223_372_036_854_775_807n, estimated: false, detail: { from: 'gpt-4o' } },
      { lever: 'prompt_cache', saving: -5n, estimated: true },
    ]);
    // New rows get the typed copy on insert, beside the migrated ones.
    await ledger.append([usageEvent({ time: time / 1000, attribution: { feature: 'chat', tags: {} }, levers: [{ lever: 'routing', saving: 10n, estimated: false }] })]);
    const [routing] = await ledger.savings({ by: 'feature' });
    assert.deepEqual([routing?.requests, routing?.measured], [3, 9_223_372_036_854_775_818n]);
    assert.equal(await ledger.count(), 5);
    await ledger.close();
    assert.deepEqual(await appliedVersions(path), MIGRATIONS.map(({ version }) => version));
    await assert.rejects(
      withRawDatabase(path, (connection) => connection.run("INSERT INTO usage_events (request_id, time, provider, endpoint, tags, stream, status, latency_ms) VALUES (NULL, now(), 'openai', 'x', '{}', false, 200, 1)")),
      /NOT NULL/,
    );
  });

  it('refuses a file from a newer costgate', async () => {
    const path = join(folder, `ledger-${++files}.duckdb`);
    await (await openDuckDbLedger({ path })).close();
    await withRawDatabase(path, (connection) =>
      connection.run(`INSERT INTO schema_migrations (version, name) VALUES (${LATEST_SCHEMA_VERSION + 1}, 'from the future')`),
    );
    await assert.rejects(openDuckDbLedger({ path }), /newer than this costgate knows/);
  });

  it('a failed migration leaves the file at the last good version', async () => {
    const path = join(folder, `ledger-${++files}.duckdb`);
    const broken = [...MIGRATIONS, { version: LATEST_SCHEMA_VERSION + 1, name: 'broken', statements: ['ALTER TABLE usage_events ADD COLUMN ok VARCHAR', 'SELEKT 1'] }];
    await assert.rejects(
      withRawDatabase(path, (connection) => migrate(connection, broken)),
      /migration .* \(broken\) failed/,
    );
    assert.deepEqual(await appliedVersions(path), MIGRATIONS.map(({ version }) => version));
    const columns = await withRawDatabase(path, async (connection) =>
      (await connection.runAndReadAll("SELECT column_name FROM information_schema.columns WHERE table_name = 'usage_events' AND column_name = 'ok'")).getRowsJS(),
    );
    assert.deepEqual(columns, []);
  });
});

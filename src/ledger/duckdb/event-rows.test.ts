import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { usageEvent } from '../testing/usage-event-fixtures.ts';
import { openDuckDbLedger } from './duckdb-ledger.ts';
import { MIGRATIONS, migrate } from './migrations.ts';

const folder = mkdtempSync(join(tmpdir(), 'costgate-event-rows-'));
after(() => rmSync(folder, { recursive: true, force: true }));
let files = 0;
const DAY = 86_400_000;

describe('usage_events de-duplication without a primary key', () => {
  it('skips a replayed event whatever else its batch holds, however old it is', async () => {
    const ledger = await openDuckDbLedger({ path: join(folder, `ledger-${++files}.duckdb`) });
    try {
      const old = usageEvent({ time: Date.UTC(2026, 0, 1), cost: 1n });
      const recent = usageEvent({ time: Date.UTC(2026, 5, 1), cost: 2n });
      await ledger.append([old, recent]);
      // A spool replay after a long outage: months-old and new events in one batch.
      const fresh = usageEvent({ time: Date.UTC(2026, 5, 1) + DAY, cost: 3n });
      await ledger.append([{ ...old, cost: 10n }, fresh, { ...recent, cost: 20n }]);
      // Re-stamped within the window: still one row.
      await ledger.append([{ ...fresh, time: fresh.time + 60_000, cost: 30n }]);
      assert.equal(await ledger.count(), 3);
      assert.deepEqual((await ledger.get([old.requestId, recent.requestId, fresh.requestId])).map(({ cost }) => cost).sort(), [1n, 2n, 3n]);
    } finally {
      await ledger.close();
    }
  });

  it('the migration that drops the key keeps every row and the NOT NULL columns', async () => {
    const path = join(folder, `ledger-${++files}.duckdb`);
    const before = MIGRATIONS.filter(({ version }) => version < 10);
    const instance = await DuckDBInstance.create(path);
    const connection = await instance.connect();
    try {
      await migrate(connection, before);
      await connection.run(`INSERT INTO usage_events (request_id, time, provider, endpoint, tags, stream, status, latency_ms, cost_picousd)
        VALUES ('a', TIMESTAMP '2026-02-01 10:00:00', 'openai', 'chat.completions', '{}', false, 200, 12.5, 7), ('b', TIMESTAMP '2026-01-01 09:00:00', 'anthropic', 'messages', '{}', true, 200, 3, 9)`);
      await migrate(connection, MIGRATIONS);
      const rows = (await connection.runAndReadAll('SELECT request_id, cost_picousd FROM usage_events ORDER BY request_id')).getRowsJS();
      assert.deepEqual(rows.map(([id, cost]) => [id, Number(cost)]), [['a', 7], ['b', 9]]);
      const keys = (await connection.runAndReadAll("SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'usage_events' AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')")).getRowsJS();
      assert.equal(Number(keys[0]?.[0]), 0);
      await assert.rejects(connection.run(`INSERT INTO usage_events (request_id, provider, endpoint, tags, stream, status, latency_ms) VALUES ('c', 'openai', 'x', '{}', false, 200, 1)`), /NOT NULL/);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});

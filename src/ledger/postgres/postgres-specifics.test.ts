import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { InvalidUsageEventError, LedgerNotFoundError } from '../ledger.ts';
import { usageEvent } from '../testing/usage-event-fixtures.ts';
import { TEST_POSTGRES_URL, testSchemas } from '../testing/postgres-schemas.ts';
import { parsePostgresUrl, positional, redact } from './connection.ts';
import { LATEST_POSTGRES_SCHEMA_VERSION } from './migrations.ts';
import { openPostgresLedger } from './postgres-ledger.ts';

/** What the Postgres backend does beyond the shared conformance suites: partitions, races, migrations, URLs. */

const schemas = testSchemas('costgate_pg_specifics');
const admin = new pg.Pool({ connectionString: TEST_POSTGRES_URL, max: 2 });
after(async () => {
  await admin.end();
  await schemas.dropAll();
});

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 4, 23, 59, 59, 999);

describe('Postgres ledger URL', () => {
  it('takes the schema from ?schema= (default costgate) and passes other parameters to the driver', () => {
    const parsed = parsePostgresUrl('postgres://user:secret@db.internal:6543/ledger?schema=team_a&sslmode=require&options=-c%20work_mem%3D64MB');
    assert.equal(parsed.schema, 'team_a');
    assert.equal(parsed.serverOptions, '-c work_mem=64MB');
    assert.equal(parsed.label, 'db.internal:6543/ledger/team_a');
    assert.equal(new URL(parsed.connectionString).searchParams.get('sslmode'), 'require');
    assert.equal(new URL(parsed.connectionString).searchParams.has('schema'), false);
    assert.equal(parsePostgresUrl('postgresql://127.0.0.1/test').schema, 'costgate');
    assert.throws(() => parsePostgresUrl('postgres://127.0.0.1/test?schema=Bad-Name'), /lower-case identifier/);
    assert.equal(redact('postgres://user:secret@host/db'), 'postgres://user:***@host/db');
  });

  it('numbers named parameters, one number per name', () => {
    const { text, values } = positional({ sql: 'a = $first AND b = $second OR c = $first', values: { first: 1, second: 'x' } });
    assert.equal(text, 'a = $1 AND b = $2 OR c = $1');
    assert.deepEqual(values, [1, 'x']);
    assert.throws(() => positional({ sql: '$missing', values: {} }), /missing/);
  });
});

describe('Postgres ledger storage', () => {
  it('creates one partition per UTC day on demand, and reads across them', async () => {
    const schema = schemas.next();
    const ledger = await openPostgresLedger({ url: schemas.url(schema) });
    try {
      const events = [usageEvent({ time: T0 }), usageEvent({ time: T0 + 1 }), usageEvent({ time: T0 + 2 * DAY })];
      await ledger.append(events);
      const partitions = await admin.query<{ name: string }>(
        `SELECT child.relname AS name FROM pg_inherits JOIN pg_class child ON child.oid = inhrelid JOIN pg_class parent ON parent.oid = inhparent
         JOIN pg_namespace ON pg_namespace.oid = parent.relnamespace WHERE parent.relname = 'usage_events' AND nspname = $1 ORDER BY 1`,
        [schema],
      );
      assert.deepEqual(
        partitions.rows.map(({ name }) => name),
        ['usage_events_20261204', 'usage_events_20261205', 'usage_events_20261206'],
      );
      assert.deepEqual((await ledger.report({ by: 'day' })).map(({ key, requests }) => [key, requests]).sort(), [
        ['2026-12-04', 1],
        ['2026-12-05', 1],
        ['2026-12-06', 1],
      ]);
      assert.deepEqual(
        (await ledger.get(events.map(({ requestId }) => requestId))).map(({ time }) => time),
        events.map(({ time }) => time),
      );
    } finally {
      await ledger.close();
    }
  });

  it('makes a day partition again after one was dropped by hand (retention), on the next try', async () => {
    const schema = schemas.next();
    const ledger = await openPostgresLedger({ url: schemas.url(schema) });
    try {
      await ledger.append([usageEvent({ time: T0 })]);
      await admin.query(`DROP TABLE ${schema}.usage_events_20261204`);
      const later = usageEvent({ time: T0 - 1000 });
      await assert.rejects(ledger.append([later]), /no partition/);
      await ledger.append([later]);
      assert.equal(await ledger.count(), 1);
    } finally {
      await ledger.close();
    }
  });

  it('stores each request id once when two gateways append overlapping batches at the same time', async () => {
    const url = schemas.url(schemas.next());
    const [first, second] = await Promise.all([openPostgresLedger({ url }), openPostgresLedger({ url })]);
    try {
      const events = Array.from({ length: 2000 }, (_, index) => usageEvent({ time: T0 + index * 60_000, cost: BigInt(index) }));
      // Overlapping halves, each sent twice, racing: 2000 distinct ids in all.
      await Promise.all([
        first.append(events.slice(0, 1500)),
        second.append(events.slice(500)),
        first.append(events.slice(1000)),
        second.append(events.slice(0, 1000)),
      ]);
      assert.equal(await first.count(), 2000);
      const [row] = await second.report({ by: 'provider' });
      assert.equal(row?.cost, BigInt((1999 * 2000) / 2));
      assert.equal(row?.requests, 2000);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('refuses what Postgres cannot hold as invalid (set aside by the recorder, never retried forever)', async () => {
    const ledger = await openPostgresLedger({ url: schemas.url(schemas.next()) });
    try {
      const good = usageEvent();
      const nul = usageEvent({ attribution: { feature: 'a\u0000b', tags: {} } });
      await assert.rejects(ledger.append([good, nul]), (error: unknown) => error instanceof InvalidUsageEventError && error.requestIds[0] === nul.requestId);
      assert.equal(await ledger.count(), 0);
    } finally {
      await ledger.close();
    }
  });
});

describe('Postgres ledger migrations', () => {
  it('records its steps once per schema, and a reader does not create a ledger', async () => {
    const schema = schemas.next();
    await assert.rejects(openPostgresLedger({ url: schemas.url(schema), mustExist: true }), LedgerNotFoundError);
    const exists = await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    assert.equal(exists.rowCount, 0, 'a reader leaves no schema behind');
    // Two gateways starting together: the advisory lock lets one migrate.
    const opened = await Promise.all([openPostgresLedger({ url: schemas.url(schema) }), openPostgresLedger({ url: schemas.url(schema) })]);
    for (const ledger of opened) await ledger.close();
    const reader = await openPostgresLedger({ url: schemas.url(schema), mustExist: true });
    await reader.close();
    const steps = await admin.query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
    assert.deepEqual(
      steps.rows.map(({ version }) => version),
      Array.from({ length: LATEST_POSTGRES_SCHEMA_VERSION }, (_, index) => index + 1),
    );
  });

  it('refuses a schema written by a newer costgate', async () => {
    const schema = schemas.next();
    await (await openPostgresLedger({ url: schemas.url(schema) })).close();
    await admin.query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES ($1, 'from the future')`, [LATEST_POSTGRES_SCHEMA_VERSION + 1]);
    await assert.rejects(openPostgresLedger({ url: schemas.url(schema) }), /newer than this costgate knows/);
  });
});

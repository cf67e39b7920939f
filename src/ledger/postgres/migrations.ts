import type pg from 'pg';

export interface PostgresMigration {
  /** Strictly increasing, starting at 1; never renumber or edit one that has shipped. */
  version: number;
  name: string;
  statements: readonly string[];
}

const MODEL = 'coalesce(served_model, requested_model)';

/**
 * The Postgres ledger schema, as ordered steps recorded in schema_migrations (the schema's own
 * table). It starts where the DuckDB schema has arrived, so it is one step; append new ones.
 *
 * usage_events is partitioned by day on `time` (partitions are made on demand before an insert,
 * see partitions.ts). A unique key on a partitioned table must contain the partition key, which
 * would let one request id be stored twice under two times; usage_event_keys, not partitioned,
 * holds every request id once, and an insert claims ids there first (ON CONFLICT DO NOTHING),
 * which is race-free across gateways. Its time column finds an event's partition for `get`.
 * JSON columns are `json`, not `jsonb`, so raw usage is kept byte for byte.
 */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'create usage_events (partitioned by day), usage_event_keys and outcomes',
    statements: [
      `CREATE TABLE usage_events (
        request_id TEXT NOT NULL,
        time TIMESTAMPTZ NOT NULL,
        provider TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        requested_model TEXT,
        served_model TEXT,
        feature TEXT,
        customer TEXT,
        user_id TEXT,
        tags JSON NOT NULL,
        stream BOOLEAN NOT NULL,
        status INTEGER NOT NULL,
        error_type TEXT,
        latency_ms DOUBLE PRECISION NOT NULL,
        ttfb_ms DOUBLE PRECISION,
        input_total BIGINT, -- NULL = not reported, 0 = reported as zero
        input_no_cache BIGINT,
        input_cache_read BIGINT,
        input_cache_write_5m BIGINT,
        input_cache_write_1h BIGINT,
        output_total BIGINT,
        output_text BIGINT,
        output_reasoning BIGINT,
        usage_raw JSON,
        stop_reason TEXT,
        cost_picousd BIGINT, -- NULL = unpriced, never 0
        baseline_cost_picousd BIGINT,
        price_version TEXT,
        cache_status TEXT,
        route TEXT,
        batch_id TEXT,
        levers JSON, -- [{lever, saving (picodollars as a decimal string), estimated, detail}]
        cache_write_premium_picousd BIGINT,
        cache_read_saving_picousd BIGINT,
        max_tokens_requested BIGINT,
        max_tokens_sent BIGINT,
        api_key_id TEXT
      ) PARTITION BY RANGE (time)`,
      // Indexes on the parent are created on every partition, present and future. Within a day's
      // partition, each report filter narrows by its column and then by time.
      'CREATE INDEX usage_events_time ON usage_events (time)',
      'CREATE INDEX usage_events_feature ON usage_events (feature, time)',
      'CREATE INDEX usage_events_customer ON usage_events (customer, time)',
      `CREATE INDEX usage_events_model ON usage_events ((${MODEL}), time)`,
      'CREATE INDEX usage_events_api_key ON usage_events (api_key_id, time)',
      `CREATE TABLE usage_event_keys (
        request_id TEXT PRIMARY KEY,
        time TIMESTAMPTZ NOT NULL
      )`,
      `CREATE TABLE outcomes (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- recorded order
        request_id TEXT NOT NULL,
        time TIMESTAMPTZ NOT NULL,
        source TEXT NOT NULL, -- feedback | shadow
        model TEXT,
        score DOUBLE PRECISION NOT NULL, -- 0..1
        feature TEXT,
        prompt TEXT,
        reference_model TEXT,
        detail JSON
      )`,
      'CREATE INDEX outcomes_request ON outcomes (request_id)',
      'CREATE INDEX outcomes_time ON outcomes (time)',
    ],
  },
];

export const LATEST_POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS.at(-1)?.version ?? 0;

/**
 * Versions not run yet in `schema` (all of them when it has no schema_migrations table), and the
 * highest version recorded (0 for none), read without taking any lock.
 */
export async function postgresSchemaState(
  client: pg.ClientBase,
  schema: string,
  migrations: readonly PostgresMigration[] = POSTGRES_MIGRATIONS,
): Promise<{ missing: number[]; newest: number }> {
  const table = await client.query<{ found: boolean }>(
    "SELECT to_regclass(quote_ident($1) || '.schema_migrations') IS NOT NULL AS found",
    [schema],
  );
  if (!table.rows[0]?.found) return { missing: migrations.map(({ version }) => version), newest: 0 };
  const applied = new Set((await client.query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations`)).rows.map(({ version }) => version));
  return { missing: migrations.map(({ version }) => version).filter((version) => !applied.has(version)), newest: Math.max(0, ...applied) };
}

/**
 * Creates the schema if needed and runs the steps it has not run, each in one transaction with
 * its schema_migrations row. Gateways starting together take turns on an advisory lock, so each
 * step runs once. Refuses a schema written by a newer costgate rather than misreading it.
 */
export async function migratePostgres(
  client: pg.ClientBase,
  schema: string,
  migrations: readonly PostgresMigration[] = POSTGRES_MIGRATIONS,
): Promise<void> {
  await client.query("SELECT pg_advisory_lock(hashtext('costgate-ledger-migrate:' || $1))", [schema]);
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`);
    const applied = new Set((await client.query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations`)).rows.map(({ version }) => version));
    const known = migrations.at(-1)?.version ?? 0;
    const newest = Math.max(0, ...applied);
    if (newest > known) throw new Error(`ledger schema ${schema} is at version ${newest}, newer than this costgate knows (${known}); upgrade costgate`);
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(`SET LOCAL search_path TO ${schema}`);
        for (const statement of migration.statements) await client.query(statement);
        await client.query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`ledger migration ${migration.version} (${migration.name}) failed: ${(error as Error).message}`, { cause: error });
      }
    }
  } finally {
    await client.query("SELECT pg_advisory_unlock(hashtext('costgate-ledger-migrate:' || $1))", [schema]);
  }
}

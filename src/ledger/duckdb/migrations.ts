import type { DuckDBConnection } from '@duckdb/node-api';

export interface Migration {
  /** Strictly increasing, starting at 1; never renumber or edit one that has shipped. */
  version: number;
  name: string;
  statements: readonly string[];
}

/**
 * The ledger schema, as an ordered list of steps. A database records the steps it has run in
 * schema_migrations, so opening an older file runs only the missing ones. Append new steps;
 * never change old ones, since files in the field have already run them.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create usage_events',
    statements: [
      `CREATE TABLE usage_events (
        request_id VARCHAR PRIMARY KEY,
        time TIMESTAMP NOT NULL, -- UTC
        provider VARCHAR NOT NULL,
        endpoint VARCHAR NOT NULL,
        requested_model VARCHAR,
        served_model VARCHAR,
        feature VARCHAR,
        customer VARCHAR,
        user_id VARCHAR,
        tags JSON NOT NULL,
        stream BOOLEAN NOT NULL,
        status INTEGER NOT NULL,
        error_type VARCHAR,
        latency_ms DOUBLE NOT NULL,
        ttfb_ms DOUBLE,
        input_total BIGINT, -- NULL = not reported, 0 = reported as zero
        input_no_cache BIGINT,
        input_cache_read BIGINT,
        input_cache_write_5m BIGINT,
        input_cache_write_1h BIGINT,
        output_total BIGINT,
        output_text BIGINT,
        output_reasoning BIGINT,
        usage_raw JSON,
        stop_reason VARCHAR,
        cost_picousd BIGINT, -- NULL = unpriced, never 0
        baseline_cost_picousd BIGINT,
        price_version VARCHAR
      )`,
    ],
  },
  {
    version: 2,
    name: 'add lever columns: cache_status, route, batch_id',
    statements: [
      'ALTER TABLE usage_events ADD COLUMN cache_status VARCHAR',
      'ALTER TABLE usage_events ADD COLUMN route VARCHAR',
      'ALTER TABLE usage_events ADD COLUMN batch_id VARCHAR',
    ],
  },
  {
    version: 3,
    name: 'add levers: per-lever savings and decisions',
    // JSON array of {lever, saving (picodollars as a decimal string), estimated, detail}.
    statements: ['ALTER TABLE usage_events ADD COLUMN levers JSON'],
  },
  {
    version: 4,
    name: 'add prompt-cache accounting: write premium and read saving',
    statements: [
      'ALTER TABLE usage_events ADD COLUMN cache_write_premium_picousd BIGINT',
      'ALTER TABLE usage_events ADD COLUMN cache_read_saving_picousd BIGINT',
    ],
  },
  {
    version: 5,
    name: 'add output caps: max tokens requested by the client and sent upstream',
    statements: [
      'ALTER TABLE usage_events ADD COLUMN max_tokens_requested BIGINT',
      'ALTER TABLE usage_events ADD COLUMN max_tokens_sent BIGINT',
    ],
  },
  {
    version: 7,
    name: 'create outcomes: feedback and shadow comparisons per call, training data for routing',
    statements: [
      `CREATE TABLE outcomes (
        request_id VARCHAR NOT NULL,
        time TIMESTAMP NOT NULL, -- UTC
        source VARCHAR NOT NULL, -- feedback | shadow
        model VARCHAR, -- the model whose answer was graded
        score DOUBLE NOT NULL, -- 0..1
        feature VARCHAR,
        prompt VARCHAR, -- kept only when the router captures prompts
        reference_model VARCHAR, -- shadow: the stronger model compared against
        detail JSON
      )`,
      'CREATE INDEX outcomes_request ON outcomes (request_id)',
    ],
  },
  {
    version: 9,
    name: 'add api_key_id: hashed client credential, for spend and anomaly series per API key',
    statements: ['ALTER TABLE usage_events ADD COLUMN api_key_id VARCHAR'],
  },
  {
    version: 10,
    name: 'usage_events without the request_id primary key: duplicates are skipped by a time-bounded anti-join on insert',
    // DuckDB cannot drop a constraint in place: copy (every column, whatever earlier steps added,
    // in time order so per-block min/max on time prune well), swap, and restore the NOT NULLs.
    statements: [
      'CREATE TABLE usage_events_rebuilt AS SELECT * FROM usage_events ORDER BY time',
      'DROP TABLE usage_events',
      'ALTER TABLE usage_events_rebuilt RENAME TO usage_events',
      ...['request_id', 'time', 'provider', 'endpoint', 'tags', 'stream', 'status', 'latency_ms'].map(
        (column) => `ALTER TABLE usage_events ALTER COLUMN ${column} SET NOT NULL`,
      ),
    ],
  },
  {
    version: 11,
    name: 'add lever_effects: each row\'s levers as typed values, so savings reports sum them without parsing JSON',
    // New rows get it on insert; stored rows are filled from `levers` here. An UPDATE of the one new
    // column, not a rebuild as in 10: on a 3,000,000-row ledger it took 5 s within a 64 MB buffer
    // pool, where copying every column ran out of that memory.
    statements: [
      'ALTER TABLE usage_events ADD COLUMN lever_effects STRUCT(lever VARCHAR, saving HUGEINT, estimated BOOLEAN)[]',
      `UPDATE usage_events
       SET lever_effects = from_json(levers, '[{"lever":"VARCHAR","saving":"HUGEINT","estimated":"BOOLEAN"}]')
       WHERE levers IS NOT NULL`,
    ],
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name VARCHAR NOT NULL,
  applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp
)`;

/**
 * Versions of `migrations` the database has not run, in order (all of them for a new database).
 * Works on a read-only connection. A file can hold the highest version and still miss one that
 * landed later with a lower number, so "up to date" means this is empty, not max(version) = latest.
 */
export async function missingMigrations(connection: DuckDBConnection, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const table = await connection.runAndReadAll(
    "SELECT count(*) AS found FROM information_schema.tables WHERE table_name = 'schema_migrations'",
  );
  if (Number(table.getRowObjectsJS()[0]?.['found'] ?? 0) === 0) return migrations.map(({ version }) => version);
  const applied = new Set((await connection.runAndReadAll('SELECT version FROM schema_migrations')).getRowsJS().map(([version]) => Number(version)));
  return migrations.map(({ version }) => version).filter((version) => !applied.has(version));
}

/** 0 for a new, empty database. Works on a read-only connection. */
export async function schemaVersion(connection: DuckDBConnection): Promise<number> {
  const table = await connection.runAndReadAll(
    "SELECT count(*) AS found FROM information_schema.tables WHERE table_name = 'schema_migrations'",
  );
  if (Number(table.getRowObjectsJS()[0]?.['found'] ?? 0) === 0) return 0;
  const result = await connection.runAndReadAll('SELECT coalesce(max(version), 0) AS version FROM schema_migrations');
  return Number(result.getRowObjectsJS()[0]?.['version'] ?? 0);
}

/**
 * Runs the migrations the database has not run yet, each in its own transaction together
 * with its schema_migrations row, so a crash mid-way leaves a consistent, resumable file.
 * Refuses a database written by a newer costgate rather than misreading it.
 */
export async function migrate(connection: DuckDBConnection, migrations: readonly Migration[] = MIGRATIONS): Promise<number> {
  await connection.run(CREATE_MIGRATIONS_TABLE);
  const current = await schemaVersion(connection);
  const known = migrations.at(-1)?.version ?? 0;
  if (current > known) {
    throw new Error(`ledger schema version ${current} is newer than this costgate knows (${known}); upgrade costgate`);
  }
  // Version numbers may land out of order (a file can hold 9 before 8 ships): run every step not
  // recorded yet, not only those above the highest one.
  const applied = new Set(
    (await connection.runAndReadAll('SELECT version FROM schema_migrations')).getRowsJS().map(([version]) => Number(version)),
  );
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    await connection.run('BEGIN TRANSACTION');
    try {
      for (const statement of migration.statements) await connection.run(statement);
      await connection.run('INSERT INTO schema_migrations (version, name) VALUES ($version, $name)', {
        version: migration.version,
        name: migration.name,
      });
      await connection.run('COMMIT');
    } catch (error) {
      await connection.run('ROLLBACK');
      throw new Error(`ledger migration ${migration.version} (${migration.name}) failed: ${(error as Error).message}`, { cause: error });
    }
  }
  return known;
}

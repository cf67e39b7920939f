import pg from 'pg';
import { DuplicateKeyError, type KeyStore } from './key-store.ts';
import { keyFromStored, storedKey, type StoredKey, type VirtualKey } from './virtual-key.ts';

const TABLE = 'costgate_virtual_keys';

interface KeyRow {
  record: StoredKey;
  revoked_at: string | null;
}

/** Keys in Postgres, shared by every replica; the table is created if absent (safe to race). */
export class PostgresKeyStore implements KeyStore {
  private readonly pool: pg.Pool;
  private readonly table: string;
  private readonly schemaName: string;
  private ready: Promise<void> | undefined;

  constructor(options: { url: string; schema?: string }) {
    this.pool = new pg.Pool({ connectionString: options.url, max: 4 });
    // The pool reports idle-client errors (a server restart) here; queries report their own.
    this.pool.on('error', () => {});
    this.schemaName = options.schema ?? 'public';
    this.table = `"${this.schemaName}"."${TABLE}"`;
  }

  private schema(): Promise<void> {
    this.ready ??= (async () => {
      // Two replicas starting together may both try; the advisory lock makes the second wait.
      const client = await this.pool.connect();
      try {
        await client.query('SELECT pg_advisory_lock(hashtext($1))', [this.table]);
        // The ledger's schema may not exist yet when keys are the first thing a replica touches.
        await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schemaName}"`);
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${this.table} (
            id text PRIMARY KEY,
            hash text NOT NULL UNIQUE,
            record jsonb NOT NULL,
            created_at bigint NOT NULL,
            revoked_at bigint
          )`,
        );
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [this.table]).catch(() => {});
        client.release();
      }
    })().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  private static key(row: KeyRow): VirtualKey {
    const key = keyFromStored(row.record);
    if (row.revoked_at !== null) key.revokedAt = Number(row.revoked_at);
    return key;
  }

  async create(key: VirtualKey): Promise<void> {
    await this.schema();
    const { revokedAt: _revoked, ...record } = storedKey(key);
    const result = await this.pool.query(
      `INSERT INTO ${this.table} (id, hash, record, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [key.id, key.hash, JSON.stringify(record), key.createdAt],
    );
    if (result.rowCount !== 1) throw new DuplicateKeyError(`key ${key.id} exists`);
  }

  async findByHash(hash: string): Promise<VirtualKey | undefined> {
    await this.schema();
    const result = await this.pool.query<KeyRow>(`SELECT record, revoked_at FROM ${this.table} WHERE hash = $1`, [hash]);
    const row = result.rows[0];
    return row ? PostgresKeyStore.key(row) : undefined;
  }

  async list(): Promise<VirtualKey[]> {
    await this.schema();
    const result = await this.pool.query<KeyRow>(`SELECT record, revoked_at FROM ${this.table} ORDER BY created_at, id`);
    return result.rows.map((row) => PostgresKeyStore.key(row));
  }

  async revoke(id: string, at = Date.now()): Promise<boolean> {
    await this.schema();
    const result = await this.pool.query(`UPDATE ${this.table} SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1`, [id, at]);
    return result.rowCount === 1;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { CallRecord } from './load-faults-traffic.ts';

/**
 * What bench:load checks after the run: the shared Postgres ledger against the answers the
 * clients got (one row per successful call, none missing, none twice), each key's settled spend
 * against its budget, and what the replicas left in their spools. Also the per-run isolation:
 * a fresh schema and Redis key prefix, dropped afterwards.
 */

export const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

export async function createSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** Deletes this run's keys only (SCAN by prefix, never FLUSH). */
export async function deleteRedisPrefix(prefix: string): Promise<number> {
  const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/** The gateways' budget spend counters for one key in Redis (nanodollars, per period), summed as picodollars. */
export async function redisSpendCounters(prefix: string, keyId: string): Promise<bigint | undefined> {
  const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const names = await redis.keys(`${prefix}budget:{${keyId}}:spent:*`);
    if (names.length === 0) return undefined;
    let total = 0n;
    for (const name of names) total += BigInt((await redis.get(name)) ?? '0') * 1000n;
    return total;
  } finally {
    redis.disconnect();
  }
}

/** Files with content left under the replicas' spool folders (events not yet in the ledger). */
export function spoolLeftovers(localDir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const walk = (folder: string): void => {
    let entries;
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        const size = statSync(path).size;
        if (size > 0) {
          files += 1;
          bytes += size;
        }
      }
    }
  };
  walk(join(localDir, 'spool'));
  return { files, bytes };
}

/** Request ids of the events in one replica's spool segments (what it had not committed yet). */
export function spooledRequestIds(localDir: string, port: number): string[] {
  const ids: string[] = [];
  const root = join(localDir, 'spool');
  let ledgers: string[];
  try {
    ledgers = readdirSync(root);
  } catch {
    return ids;
  }
  for (const ledgerFolder of ledgers) {
    const folder = join(root, ledgerFolder, `127.0.0.1-${port}`);
    let names: string[];
    try {
      names = readdirSync(folder).filter((name) => /^segment-\d+\.jsonl$/.test(name));
    } catch {
      continue;
    }
    for (const name of names) {
      for (const line of readFileSync(join(folder, name), 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        try {
          const requestId = (JSON.parse(line) as { requestId?: unknown }).requestId;
          if (typeof requestId === 'string') ids.push(requestId);
        } catch {
          // A line cut by the kill was never acknowledged to a client.
        }
      }
    }
  }
  return ids;
}

/** How many of these request ids the ledger holds now. */
export async function countStored(schema: string, ids: readonly string[]): Promise<number> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    const result = await client.query<{ count: string }>(`SELECT count(*)::text AS count FROM ${schema}.usage_event_keys WHERE request_id = ANY($1)`, [ids]);
    return Number(result.rows[0]?.count ?? 0);
  } finally {
    await client.end();
  }
}

/** Priced rows of one virtual key so far, and their cost in picodollars. */
export async function keySpend(schema: string, keyId: string): Promise<{ rows: number; spend: bigint }> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    const result = await client.query<{ rows: string; spend: string | null }>(
      `SELECT count(*)::text AS rows, sum(cost_picousd)::text AS spend FROM ${schema}.usage_events WHERE api_key_id = $1 AND cost_picousd IS NOT NULL`,
      [keyId],
    );
    const row = result.rows[0];
    return { rows: Number(row?.rows ?? 0), spend: BigInt(row?.spend ?? '0') };
  } finally {
    await client.end();
  }
}

export interface LedgerCheck {
  rows: number;
  /** Successful calls (2xx, complete) whose response carried a request id. */
  successes: number;
  successesWithoutId: number;
  /** Successful calls with no ledger row. */
  missing: number;
  missingIds: string[];
  /** Request ids stored more than once. */
  duplicated: number;
  /** Rows of calls the client did not see succeed, by the row's status class and what the client saw. */
  rowsWithoutClientSuccess: Map<string, number>;
  /** Events in the killed replica's spool right after the kill, and how many of them reached the ledger. */
  killedSpool: { events: number; storedAtKill: number; inLedger: number } | undefined;
  /** Picodollars per api_key_id: settled spend, largest single row, rows. */
  spendByKey: Map<string, { spend: bigint; largest: bigint; rows: number }>;
}

interface Row {
  request_id: string;
  status: number;
  api_key_id: string | null;
  cost_picousd: string | null;
}

export async function checkLedger(schema: string, records: readonly CallRecord[], killedSpool: { ids: readonly string[]; storedAtKill: number } | undefined): Promise<LedgerCheck> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  let rows: Row[];
  try {
    rows = (await client.query<Row>(`SELECT request_id, status, api_key_id, cost_picousd::text AS cost_picousd FROM ${schema}.usage_events`)).rows;
  } finally {
    await client.end();
  }
  const byId = new Map<string, Row[]>();
  for (const row of rows) {
    const list = byId.get(row.request_id);
    if (list) list.push(row);
    else byId.set(row.request_id, [row]);
  }
  const clientById = new Map<string, CallRecord>();
  for (const record of records) if (record.requestId) clientById.set(record.requestId, record);

  const check: LedgerCheck = { rows: rows.length, successes: 0, successesWithoutId: 0, missing: 0, missingIds: [], duplicated: 0, rowsWithoutClientSuccess: new Map(), killedSpool: undefined, spendByKey: new Map() };
  if (killedSpool) check.killedSpool = { events: killedSpool.ids.length, storedAtKill: killedSpool.storedAtKill, inLedger: killedSpool.ids.filter((id) => byId.has(id)).length };
  for (const record of records) {
    if (record.outcome !== 'ok') continue;
    if (!record.requestId) {
      check.successesWithoutId += 1;
      continue;
    }
    check.successes += 1;
    if (!byId.has(record.requestId)) {
      check.missing += 1;
      if (check.missingIds.length < 5) check.missingIds.push(record.requestId);
    }
  }
  for (const [id, list] of byId) {
    if (list.length > 1) check.duplicated += 1;
    const seen = clientById.get(id);
    if (seen?.outcome === 'ok') continue;
    const row = list[0];
    if (!row) continue;
    const statusClass = row.status >= 200 && row.status < 300 ? '2xx row' : `${row.status} row`;
    const clientSaw = seen ? `client: ${seen.outcome}, ${seen.cause ?? ''}` : 'client: never saw this id';
    const label = `${statusClass}; ${clientSaw}`;
    check.rowsWithoutClientSuccess.set(label, (check.rowsWithoutClientSuccess.get(label) ?? 0) + 1);
  }
  for (const row of rows) {
    if (row.api_key_id === null || row.cost_picousd === null) continue;
    const cost = BigInt(row.cost_picousd);
    const entry = check.spendByKey.get(row.api_key_id) ?? { spend: 0n, largest: 0n, rows: 0 };
    entry.spend += cost;
    if (cost > entry.largest) entry.largest = cost;
    entry.rows += 1;
    check.spendByKey.set(row.api_key_id, entry);
  }
  return check;
}

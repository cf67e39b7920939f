import type pg from 'pg';

const DAY_MS = 86_400_000;

/** Start of the UTC day holding `time` (epoch ms). */
export function dayStart(time: number): number {
  return Math.floor(time / DAY_MS) * DAY_MS;
}

/** usage_events_20261204 for the partition holding 2026-12-04 (UTC). */
export function partitionName(day: number): string {
  return `usage_events_${new Date(day).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

/**
 * Makes sure a day partition exists for every day in `times` before rows for them are inserted.
 * Days known to exist are remembered (a partition is never dropped by costgate), so the usual
 * flush costs nothing here. Creating one takes a transaction-scoped advisory lock, so two gateways
 * meeting a new day at the same moment do not both try (CREATE TABLE IF NOT EXISTS alone can
 * still fail on the race).
 */
export interface PartitionKeeper {
  ensure(client: pg.ClientBase, times: Iterable<number>): Promise<void>;
  /** After an insert found no partition (one was dropped by hand, for retention): check again next time. */
  forget(): void;
}

export function createPartitionKeeper(schema: string): PartitionKeeper {
  const known = new Set<number>();
  const ensure = async (client: pg.ClientBase, times: Iterable<number>): Promise<void> => {
    const missing = new Set<number>();
    for (const time of times) {
      const day = dayStart(time);
      if (!known.has(day)) missing.add(day);
    }
    for (const day of [...missing].sort((left, right) => left - right)) {
      const from = new Date(day).toISOString();
      const to = new Date(day + DAY_MS).toISOString();
      await client.query('BEGIN');
      try {
        await client.query("SELECT pg_advisory_xact_lock(hashtext('costgate-ledger-partition:' || $1))", [schema]);
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${schema}.${partitionName(day)} PARTITION OF ${schema}.usage_events FOR VALUES FROM ('${from}') TO ('${to}')`,
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
      known.add(day);
    }
  };
  return { ensure, forget: () => known.clear() };
}

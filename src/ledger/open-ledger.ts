import { basename, dirname, join } from 'node:path';
import { openDuckDbLedger } from './duckdb/duckdb-ledger.ts';
import type { Ledger } from './ledger.ts';
import { isPostgresUrl, parsePostgresUrl } from './postgres/connection.ts';
import { openPostgresLedger } from './postgres/postgres-ledger.ts';

export { isPostgresUrl } from './postgres/connection.ts';

/** Local files (spool, caches, statistics, batch store) of a ledger that is not a local file. */
export const DEFAULT_LOCAL_DIR = './.costgate';

export interface OpenLedgerOptions {
  /** DuckDB: keep the file open for the process's life (the gateway). Postgres always pools connections. */
  hold?: boolean;
  /** Readers: fail (LedgerNotFoundError) rather than create an empty ledger. */
  mustExist?: boolean;
  /** Postgres: told when a pooled connection breaks (server gone); the failing call rejects by itself. */
  onError?: (error: Error) => void;
  /** Postgres, for the gateway: open even if the server is unreachable now (see PostgresLedgerOptions). */
  startUnreachable?: boolean;
}

/**
 * The one way to open a ledger from `ledger.path` or a --ledger flag: a postgres:// or
 * postgresql:// URL opens the shared Postgres ledger, anything else is a DuckDB file path.
 */
export function openLedger(location: string, options: OpenLedgerOptions = {}): Promise<Ledger> {
  if (isPostgresUrl(location)) {
    return openPostgresLedger({
      url: location,
      ...(options.mustExist ? { mustExist: true } : {}),
      ...(options.startUnreachable ? { startUnreachable: true } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
    });
  }
  return openDuckDbLedger({ path: location, ...(options.hold ? { hold: true } : {}), ...(options.mustExist ? { mustExist: true } : {}) });
}

/**
 * The folder for a gateway's local files. A DuckDB ledger keeps them beside its file (as before)
 * unless `localDir` is set; a Postgres URL has no folder, so it uses `localDir` or ./.costgate.
 */
export function ledgerLocalDir(location: string, localDir?: string): string {
  if (localDir !== undefined) return localDir;
  return isPostgresUrl(location) ? DEFAULT_LOCAL_DIR : dirname(location);
}

/** The listening address of one gateway process, to tell replicas on one machine apart. */
export interface ReplicaAddress {
  host: string;
  port: number;
}

/**
 * Where a gateway spools usage events before they reach the ledger. A DuckDB file has one spool
 * beside it. A Postgres ledger is shared by replicas, each needing its own spool (one recorder per
 * folder): it is named after the ledger and the replica's address, so a replica restarted on the
 * same address replays what it left. A replica on a random port (0) has no stable address, so its
 * folder carries the process id.
 */
export function ledgerSpoolDir(location: string, localDir: string | undefined, replica: ReplicaAddress): string {
  if (!isPostgresUrl(location)) {
    const folder = localDir ?? dirname(location);
    return join(folder, 'spool', basename(location).replace(/\.[^.]+$/, '') || 'ledger');
  }
  const { label } = parsePostgresUrl(location);
  const address = replica.port === 0 ? `${replica.host}-port0-pid${process.pid}` : `${replica.host}-${replica.port}`;
  return join(ledgerLocalDir(location, localDir), 'spool', safeName(`postgres-${label}`), safeName(address));
}

function safeName(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '_');
}

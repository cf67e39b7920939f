import { join } from 'node:path';
import type { KeysConfig } from '../config/keys-config.ts';
import { isPostgresUrl, ledgerLocalDir } from '../ledger/open-ledger.ts';
import { parsePostgresUrl } from '../ledger/postgres/connection.ts';
import { FileKeyStore } from './file-key-store.ts';
import type { KeyStore } from './key-store.ts';
import { PostgresKeyStore } from './postgres-key-store.ts';

/**
 * Where virtual keys live: `keys.postgresUrl` when set; else, with a Postgres ledger, the ledger's
 * own database and schema (replicas sharing a ledger must share their keys too); else `keys.path`
 * or keys.json in the ledger's local folder.
 */
export function openKeyStore(config: KeysConfig, ledgerLocation: string, localDir?: string): KeyStore {
  if (config.postgresUrl) return new PostgresKeyStore({ url: config.postgresUrl, schema: config.postgresSchema });
  if (config.path === undefined && isPostgresUrl(ledgerLocation)) {
    const { connectionString, schema } = parsePostgresUrl(ledgerLocation);
    return new PostgresKeyStore({ url: connectionString, schema });
  }
  return new FileKeyStore(config.path ?? join(ledgerLocalDir(ledgerLocation, localDir), 'keys.json'));
}

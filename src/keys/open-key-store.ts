import { dirname, join } from 'node:path';
import type { KeysConfig } from '../config/keys-config.ts';
import { FileKeyStore } from './file-key-store.ts';
import type { KeyStore } from './key-store.ts';
import { PostgresKeyStore } from './postgres-key-store.ts';

/** Postgres when `keys.postgresUrl` is set (several replicas), else `keys.path` or keys.json beside the ledger. */
export function openKeyStore(config: KeysConfig, ledgerPath: string): KeyStore {
  if (config.postgresUrl) return new PostgresKeyStore({ url: config.postgresUrl, schema: config.postgresSchema });
  return new FileKeyStore(config.path ?? join(dirname(ledgerPath), 'keys.json'));
}

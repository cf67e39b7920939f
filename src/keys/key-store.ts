import type { VirtualKey } from './virtual-key.ts';

/**
 * Where virtual keys live: durable (a file, or Postgres when several replicas share them), never
 * only in Redis, which may keep nothing across a restart.
 */
export interface KeyStore {
  /** Fails if a key with the same id exists (ids are 48 bits of a 256-bit secret's hash). */
  create(key: VirtualKey): Promise<void>;
  /** By full SHA-256 of the secret; revoked keys included (the caller checks revokedAt). */
  findByHash(hash: string): Promise<VirtualKey | undefined>;
  list(): Promise<VirtualKey[]>;
  /** Marks the key revoked; false when no such key. Revoking twice keeps the first time. */
  revoke(id: string, at?: number): Promise<boolean>;
  close(): Promise<void>;
}

export class DuplicateKeyError extends Error {
  override name = 'DuplicateKeyError';
}

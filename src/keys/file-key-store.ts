import { mkdirSync, openSync, closeSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DuplicateKeyError, type KeyStore } from './key-store.ts';
import { keyFromStored, storedKey, type StoredKey, type VirtualKey } from './virtual-key.ts';

const LOCK_ATTEMPTS = 200;
const LOCK_WAIT_MS = 10;
// A lock older than this was left by a process that died while writing.
const STALE_LOCK_MS = 10_000;

/**
 * Keys in one JSON file (default mode, one machine). Written whole to a temporary file and
 * renamed, under a lock file, so the gateway and `costgate keys` may both write it.
 */
export class FileKeyStore implements KeyStore {
  constructor(private readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }

  private read(): StoredKey[] {
    try {
      const parsed: unknown = JSON.parse(readFileSync(this.path, 'utf8'));
      return Array.isArray(parsed) ? (parsed as StoredKey[]) : [];
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  private write(keys: StoredKey[]): void {
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(keys, null, 2), { mode: 0o600 });
    renameSync(temporary, this.path);
  }

  private async locked<T>(work: (keys: StoredKey[]) => T): Promise<T> {
    const lock = `${this.path}.lock`;
    for (let attempt = 0; ; attempt += 1) {
      try {
        closeSync(openSync(lock, 'wx'));
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= LOCK_ATTEMPTS) throw error;
        try {
          if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { force: true });
        } catch {
          // Released meanwhile.
        }
        await sleep(LOCK_WAIT_MS);
      }
    }
    try {
      return work(this.read());
    } finally {
      rmSync(lock, { force: true });
    }
  }

  async create(key: VirtualKey): Promise<void> {
    await this.locked((keys) => {
      if (keys.some((existing) => existing.id === key.id)) throw new DuplicateKeyError(`key ${key.id} exists`);
      this.write([...keys, storedKey(key)]);
    });
  }

  async findByHash(hash: string): Promise<VirtualKey | undefined> {
    const found = this.read().find((key) => key.hash === hash);
    return found ? keyFromStored(found) : undefined;
  }

  async list(): Promise<VirtualKey[]> {
    return this.read().map(keyFromStored);
  }

  async revoke(id: string, at = Date.now()): Promise<boolean> {
    return this.locked((keys) => {
      const key = keys.find((existing) => existing.id === id);
      if (!key) return false;
      if (key.revokedAt === undefined) {
        key.revokedAt = at;
        this.write(keys);
      }
      return true;
    });
  }

  async close(): Promise<void> {}
}

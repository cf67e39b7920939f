import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

/**
 * DuckDB lets one process open a file read-write, or many processes open it read-only, never
 * both. The gateway writes while `costgate report` reads from another process, so nobody keeps
 * the file open: each operation opens it, works, and closes it, and an open that meets another
 * process's lock waits and tries again.
 */
export type AccessMode = 'read' | 'write';

export class LedgerLockedError extends Error {
  constructor(path: string, waitedMs: number, cause: unknown) {
    super(`${path} stayed locked by another process for ${waitedMs} ms; is a long report or another gateway holding it?`, { cause });
    this.name = 'LedgerLockedError';
  }
}

export interface OpenOptions {
  /** How long to keep retrying while another process holds a conflicting lock. */
  lockTimeoutMs: number;
  /** DuckDB's buffer budget for a write open (memory_limit); WRITE_SETTINGS' 256MB when absent. */
  writeMemoryLimit?: string;
}

const FIRST_RETRY_DELAY_MS = 5;
const WRITE_SETTINGS = { threads: '2', memory_limit: '256MB', allocator_flush_threshold: '8MB' };
const MAX_RETRY_DELAY_MS = 200;

export function isLockConflict(error: unknown): boolean {
  return error instanceof Error && /Could not set lock on file|Conflicting lock is held/i.test(error.message);
}

/**
 * Two DuckDB instances on one file inside one process are not guarded by the file lock (it is
 * per process), so operations on the same path within this process take turns here.
 */
const queues = new Map<string, Promise<void>>();

export function takeTurn<T>(key: string, task: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  const result = previous.then(task);
  const tail = result.then(
    () => undefined,
    () => undefined,
  );
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return result;
}

export function withDatabase<T>(
  path: string,
  mode: AccessMode,
  options: OpenOptions,
  work: (connection: DuckDBConnection) => Promise<T>,
): Promise<T> {
  const absolutePath = resolve(path);
  return takeTurn(absolutePath, async () => {
    if (mode === 'write') await mkdir(dirname(absolutePath), { recursive: true });
    // A write is an append of at most a few thousand rows: a bounded buffer pool and two threads keep
    // a batch job's or spool replay's process small (DuckDB's default is 80% of RAM, every core).
    // Reads keep the defaults: a report over a large ledger may need the memory.
    const writeSettings = options.writeMemoryLimit === undefined ? WRITE_SETTINGS : { ...WRITE_SETTINGS, memory_limit: options.writeMemoryLimit };
    const instance = await openWithRetry(absolutePath, mode, options.lockTimeoutMs, mode === 'write' ? writeSettings : {});
    try {
      const connection = await instance.connect();
      try {
        return await work(connection);
      } finally {
        connection.closeSync();
      }
    } finally {
      instance.closeSync();
    }
  });
}

export interface HeldDatabase {
  run<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * Opens the file read-write once and keeps it for the holder's life. A gateway under load cannot
 * afford an open, checkpoint and close per flush (tens of ms of CPU each); while it holds the file,
 * other processes read through its admin API instead.
 */
export async function holdDatabase(path: string, options: OpenOptions): Promise<HeldDatabase> {
  const absolutePath = resolve(path);
  await mkdir(dirname(absolutePath), { recursive: true });
  // A gateway's ledger writes small batches: one thread and a bounded buffer pool keep DuckDB
  // from competing with request handling for cores and memory. Commits that checkpoint
  // after every 16 MB of WAL (DuckDB's default: every ten 5,000-row flushes) were the largest cost of
  // an append, about a third; 64 MB checkpoints a quarter as often and still bounds replay on restart.
  const instance = await openWithRetry(absolutePath, 'write', options.lockTimeoutMs, { threads: '1', memory_limit: '256MB', checkpoint_threshold: '64MB' });
  const connection = await instance.connect();
  return {
    run: (work) => takeTurn(absolutePath, () => work(connection)),
    async close() {
      await takeTurn(absolutePath, async () => {
        connection.closeSync();
        instance.closeSync();
      });
    },
  };
}

async function openWithRetry(path: string, mode: AccessMode, lockTimeoutMs: number, extra: Record<string, string> = {}): Promise<DuckDBInstance> {
  return openDuckDbFile(path, mode === 'read' ? { ...extra, access_mode: 'READ_ONLY' } : extra, lockTimeoutMs);
}

/** Opens a DuckDB file, waiting (with jittered backoff) while another process holds a conflicting lock. */
export async function openDuckDbFile(path: string, settings: Record<string, string>, lockTimeoutMs: number): Promise<DuckDBInstance> {
  const started = Date.now();
  let delay = FIRST_RETRY_DELAY_MS;
  for (;;) {
    try {
      return await DuckDBInstance.create(path, settings);
    } catch (error) {
      if (!isLockConflict(error)) throw error;
      const waited = Date.now() - started;
      if (waited >= lockTimeoutMs) throw new LedgerLockedError(path, waited, error);
      // Jitter keeps a reader and a writer that collided from colliding again in lockstep.
      const pause = Math.min(delay * (0.5 + Math.random()), lockTimeoutMs - waited);
      await sleep(pause);
      delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
    }
  }
}

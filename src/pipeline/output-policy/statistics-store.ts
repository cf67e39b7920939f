import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { OutputStatisticsSnapshot } from './output-statistics.ts';

/**
 * Where learned output statistics survive restarts. The file store below writes a JSON snapshot
 * beside the ledger; a shared (Redis) store for several gateways can implement the same two calls.
 */
export interface OutputStatisticsStore {
  /** Read once at start-up; undefined when nothing was saved yet. */
  load(): OutputStatisticsSnapshot | undefined;
  /** Called off the request path, at most every few seconds. */
  save(snapshot: OutputStatisticsSnapshot): Promise<void>;
}

export function fileStatisticsStore(path: string): OutputStatisticsStore {
  return {
    load() {
      try {
        return JSON.parse(readFileSync(path, 'utf8')) as OutputStatisticsSnapshot;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        // A damaged file costs the learned state, never the gateway: keep a copy for inspection and start afresh.
        try {
          mkdirSync(dirname(path), { recursive: true });
          renameSync(path, `${path}.damaged`);
        } catch {
          // Nothing more to save.
        }
        return undefined;
      }
    },
    async save(snapshot) {
      await mkdir(dirname(path), { recursive: true });
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, JSON.stringify(snapshot));
      // A rename is atomic, so a crash mid-write never leaves half a file behind.
      await rename(temporary, path);
    },
  };
}

export function defaultStatisticsPath(dataDir: string): string {
  return join(dataDir, 'output-policy', 'statistics.json');
}

/**
 * Saves whenever the statistics changed, every `intervalMs`, on an unref'd timer so it never keeps
 * a process alive. Returns a function that saves once more and stops.
 */
export function persistPeriodically(
  source: { dirty: boolean; snapshot(): OutputStatisticsSnapshot },
  store: OutputStatisticsStore,
  intervalMs: number,
  onError: (error: unknown) => void,
): () => Promise<void> {
  let saving: Promise<void> | undefined;
  const saveNow = async (): Promise<void> => {
    if (!source.dirty || saving) return saving;
    source.dirty = false;
    saving = store.save(source.snapshot()).catch((error: unknown) => {
      source.dirty = true;
      onError(error);
    });
    await saving;
    saving = undefined;
  };
  const timer = setInterval(() => void saveNow(), intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await saveNow();
  };
}

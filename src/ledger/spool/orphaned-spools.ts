import { readdirSync, rmdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Ledger } from '../ledger.ts';
import { createUsageRecorder } from '../usage-recorder.ts';
import { listSegments } from './spool-files.ts';

/**
 * Replicas of a shared ledger each spool to a folder of their own under one parent. A replica that
 * is gone for good (scaled down, moved to another port, started on a random port) leaves events
 * there that no later process would replay. A starting gateway takes over every sibling folder
 * with segments whose owner is no longer running, commits them and removes the folder; a folder
 * whose owner is alive is left alone (its lock says so). Events commit idempotently, so a folder
 * replayed twice, or by its own restarted owner meanwhile, stores nothing twice. If the ledger
 * fails, the segments stay for the next start. Returns the events committed.
 */
export async function replayOrphanedSpools(ownSpoolDir: string, ledger: Ledger, log: (line: string) => void = () => {}): Promise<number> {
  const parent = dirname(ownSpoolDir);
  let names: string[];
  try {
    names = readdirSync(parent, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? [entry.name] : []));
  } catch {
    return 0;
  }
  let committed = 0;
  for (const name of names) {
    if (name === basename(ownSpoolDir)) continue;
    const folder = join(parent, name);
    if (listSegments(folder).length === 0) continue;
    let recorder;
    try {
      // Takes the folder's lock, or throws if its owner is still running.
      recorder = await createUsageRecorder({ ledger, spoolDir: folder, flushIntervalMs: 60_000, onError: () => {} });
    } catch {
      continue;
    }
    const pending = recorder.pending();
    try {
      await recorder.close();
    } catch (error) {
      log(`events left in ${folder} by an earlier gateway could not be stored yet (${String(error)}); the next start tries again`);
      continue;
    }
    committed += pending;
    log(`stored ${pending} usage events left in ${folder} by an earlier gateway`);
    // Only an empty folder is removed (rejected.jsonl, if any, stays for an audit).
    try {
      rmdirSync(folder);
    } catch {
      // Not empty or already gone: either way nothing to replay remains.
    }
  }
  return committed;
}

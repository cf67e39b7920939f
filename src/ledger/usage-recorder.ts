import { close as closeCallback, closeSync, fdatasync as fdatasyncCallback, mkdirSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { UsageEvent } from '../core/usage-event.ts';
import { InvalidUsageEventError, type Ledger } from './ledger.ts';
import { countCompleteLines, listSegments, lockSpool, readLines, removeQuietly, segmentPath, setAside, writeLine } from './spool/spool-files.ts';
import { usageEventFromJson, usageEventToJson, usageEventToJsonLoosely } from './spool/usage-event-json.ts';

const fdatasync = promisify(fdatasyncCallback);
const closeFile = promisify(closeCallback);

export const DEFAULT_SPOOL_DIR = '.costgate/spool';

export interface UsageRecorderOptions {
  ledger: Ledger;
  /** Default ./.costgate/spool. One recorder (one gateway process) per folder. */
  spoolDir?: string;
  /** How often queued events go to the ledger. Default 1000 ms. */
  flushIntervalMs?: number;
  /** Events per ledger.append, and the queue length that triggers an early flush. Default 500. */
  maxBatch?: number;
  /** Events held in memory; past this they stay only in the spool and are re-read from it. Default 50,000. */
  maxQueued?: number;
  /** Ceiling of the retry backoff while the ledger fails. Default 30 s. */
  maxRetryDelayMs?: number;
  /** Told about every failed flush (it will be retried), spool write failure and set-aside event. */
  onError?: (error: unknown) => void;
}

export interface UsageRecorder {
  /**
   * Cheap, synchronous, on the request path: once it returns, the event is in the spool file
   * and survives the process being killed. Throws only after close().
   */
  record(event: UsageEvent): void;
  /** Commits every event recorded before the call to the ledger; rejects (keeping them) if the ledger fails. */
  flush(): Promise<void>;
  /** Flushes and releases the spool. Rejects if events could not be committed; they stay spooled for the next start. */
  close(): Promise<void>;
  /** Events recorded (or found in the spool at start) and not yet committed. */
  pending(): number;
}

/**
 * A stretch of the spool: events recorded between two flushes, in one file. The events are also
 * kept in memory unless the memory bound was reached, in which case they are re-read from the
 * file. A segment is deleted once all of its events are in the ledger.
 */
interface Segment {
  path: string;
  /** Open while this is the segment being written; undefined once sealed or if it could not be opened. */
  fd: number | undefined;
  /** Events in the file, in order, or undefined to read them back from the file. */
  events: UsageEvent[] | undefined;
  /** Lines written to the file (complete lines counted, for segments left by an earlier process). */
  written: number;
  /** Events the spool could not take (disk full...): only in memory, committed with this segment. */
  unspooled: UsageEvent[];
  /** Events from the start of this segment that are already committed (or set aside). */
  settled: number;
}

/** An event to commit, or a spool line that no longer parses (set aside, not retried). */
type Entry = { event: UsageEvent } | { unreadable: string; error: unknown };

export async function createUsageRecorder(options: UsageRecorderOptions): Promise<UsageRecorder> {
  const { ledger } = options;
  const spoolDir = resolve(options.spoolDir ?? DEFAULT_SPOOL_DIR);
  const flushIntervalMs = options.flushIntervalMs ?? 1000;
  const maxBatch = options.maxBatch ?? 500;
  const maxQueued = options.maxQueued ?? 50_000;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 30_000;
  const report = (error: unknown): void => {
    try {
      options.onError?.(error);
    } catch {
      // A failing error handler must not stop the recorder.
    }
  };

  mkdirSync(spoolDir, { recursive: true });
  const unlock = lockSpool(spoolDir);

  // Segments left by an earlier process (crashed or closed with the ledger down) are replayed first.
  const sealed: Segment[] = [];
  let nextSequence = 1;
  try {
    for (const { path, sequence } of listSegments(spoolDir)) {
      sealed.push({ path, fd: undefined, events: undefined, written: await countCompleteLines(path), unspooled: [], settled: 0 });
      nextSequence = sequence + 1;
    }
  } catch (error) {
    unlock();
    throw error;
  }
  let inMemory = 0;
  let current = openSegment();
  let closed = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let ticking = false;
  let flushSoon = false;

  function openSegment(): Segment {
    const path = segmentPath(spoolDir, nextSequence++);
    let fd: number | undefined;
    try {
      fd = openSync(path, 'a');
    } catch (error) {
      report(new Error(`cannot open spool segment ${path}; keeping events in memory until the next flush`, { cause: error }));
    }
    return { path, fd, events: [], written: 0, unspooled: [], settled: 0 };
  }

  function record(event: UsageEvent): void {
    if (closed) throw new Error('usage recorder is closed');
    let spooled = false;
    let line: string | undefined;
    try {
      line = usageEventToJson(event);
    } catch (error) {
      report(new Error(`usage event ${event.requestId} cannot be serialized; keeping it in memory only`, { cause: error }));
    }
    if (line !== undefined && current.fd !== undefined) {
      try {
        writeLine(current.fd, line);
        spooled = true;
      } catch (error) {
        // A failed write may have left part of a line; nothing more goes into this file, so that
        // partial line stays its last one and is skipped on replay like any cut-short write.
        closeQuietly(current.fd);
        current.fd = undefined;
        report(new Error(`spool write failed; keeping event ${event.requestId} in memory only`, { cause: error }));
      }
    }
    if (!spooled) {
      current.unspooled.push(event);
    } else {
      current.written += 1;
      if (current.events !== undefined && inMemory >= maxQueued) {
        // Over the memory bound: forget this segment's copies; the flush re-reads the file.
        inMemory -= current.events.length;
        current.events = undefined;
      }
      if (current.events !== undefined) {
        current.events.push(event);
        inMemory += 1;
      }
    }
    if (!flushSoon && !ticking && failures === 0 && current.written + current.unspooled.length >= maxBatch) {
      flushSoon = true;
      schedule(0);
    }
  }

  /** Seals the segment being written and (unless closing) starts the next one. */
  async function rotate(reopen: boolean): Promise<void> {
    const segment = current;
    if (segment.written + segment.unspooled.length === 0 && reopen) return;
    // Closing: an empty stand-in with no file, so a late record() has nowhere to write.
    current = reopen ? openSegment() : { path: '', fd: undefined, events: [], written: 0, unspooled: [], settled: 0 };
    sealed.push(segment);
    if (segment.fd !== undefined) {
      const fd = segment.fd;
      segment.fd = undefined;
      // Beyond kill -9 (which the write alone survives): also survive a machine crash once flushed.
      await fdatasync(fd).catch(report);
      await closeFile(fd).catch(report);
    }
  }

  /** A segment's entries not yet settled, in a fixed order: file (or its in-memory copy), then unspooled. */
  async function* entriesOf(segment: Segment): AsyncGenerator<Entry> {
    let index = 0;
    if (segment.events !== undefined) {
      for (const event of segment.events) if (index++ >= segment.settled) yield { event };
    } else if (segment.path !== '') {
      for await (const line of readLines(segment.path)) {
        if (!line.complete) continue; // cut short mid-write, so record() never returned for it
        if (index++ < segment.settled) continue;
        try {
          yield { event: usageEventFromJson(line.text) };
        } catch (error) {
          yield { unreadable: line.text, error };
        }
      }
    }
    for (const event of segment.unspooled) if (index++ >= segment.settled) yield { event };
  }

  async function appendOrSetAside(events: UsageEvent[]): Promise<void> {
    try {
      await ledger.append(events);
    } catch (error) {
      if (!(error instanceof InvalidUsageEventError)) throw error;
      // Retrying cannot fix these; keep them on disk for an audit rather than block everything behind them.
      const invalid = new Set(error.requestIds);
      await setAside(spoolDir, events.filter(({ requestId }) => invalid.has(requestId)).map(usageEventToJsonLoosely));
      report(new Error(`${invalid.size} usage events refused by the ledger were set aside in ${spoolDir}/rejected.jsonl`, { cause: error }));
      const valid = events.filter(({ requestId }) => !invalid.has(requestId));
      if (valid.length > 0) await ledger.append(valid);
    }
  }

  async function commitSealed(): Promise<void> {
    const batch: Array<{ entry: Entry; segment: Segment }> = [];
    const finished: Segment[] = [];
    const commit = async (): Promise<void> => {
      if (batch.length > 0) {
        const unreadable = batch.flatMap(({ entry }) => ('unreadable' in entry ? [entry] : []));
        if (unreadable.length > 0) {
          await setAside(spoolDir, unreadable.map(({ unreadable: line }) => line));
          for (const { error } of unreadable) report(new Error(`unreadable spool line set aside in ${spoolDir}/rejected.jsonl`, { cause: error }));
        }
        const events = batch.flatMap(({ entry }) => ('event' in entry ? [entry.event] : []));
        if (events.length > 0) await appendOrSetAside(events);
        for (const { segment } of batch) segment.settled += 1;
        batch.length = 0;
      }
      for (const segment of finished.splice(0)) {
        if (segment.path !== '') removeQuietly(segment.path);
        if (segment.events !== undefined) inMemory -= segment.events.length;
        sealed.splice(sealed.indexOf(segment), 1);
      }
    };
    for (const segment of [...sealed]) {
      for await (const entry of entriesOf(segment)) {
        batch.push({ entry, segment });
        if (batch.length >= maxBatch) await commit();
      }
      finished.push(segment);
    }
    await commit();
  }

  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;

  function flush(): Promise<void> {
    if (running === undefined) {
      running = (async () => {
        await rotate(!closed);
        await commitSealed();
      })().finally(() => {
        running = undefined;
      });
      return running;
    }
    // A flush is under way and may have sealed before the caller's events: run one more after it.
    queued ??= running
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        return flush();
      });
    return queued;
  }

  function schedule(delayMs: number): void {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(tick, delayMs);
    timer.unref(); // the server keeps the process alive; a forgotten recorder should not
  }

  async function tick(): Promise<void> {
    timer = undefined;
    ticking = true;
    flushSoon = false;
    try {
      await flush();
      failures = 0;
    } catch (error) {
      failures += 1;
      report(error);
    } finally {
      ticking = false;
    }
    if (closed) return;
    if (failures > 0) {
      const backoff = Math.min(maxRetryDelayMs, flushIntervalMs * 2 ** Math.min(failures - 1, 20));
      schedule(backoff * (0.75 + Math.random() / 2));
    } else {
      schedule(current.written + current.unspooled.length >= maxBatch ? 0 : flushIntervalMs);
    }
  }

  function pending(): number {
    const all = [...sealed, current];
    return all.reduce((sum, segment) => sum + segment.written + segment.unspooled.length - segment.settled, 0);
  }

  let closing: Promise<void> | undefined;

  async function shutDown(): Promise<void> {
    closed = true;
    if (timer !== undefined) clearTimeout(timer);
    try {
      await flush();
    } catch (error) {
      rescueUnspooled();
      const remaining = pending();
      throw new Error(`${remaining} usage events are not in the ledger yet; they stay in ${spoolDir} and are replayed on the next start`, {
        cause: error,
      });
    } finally {
      if (current.fd !== undefined) closeQuietly(current.fd);
      if (current.path !== '' && current.written === 0) removeQuietly(current.path);
      unlock();
    }
  }

  /** Last chance for events that never reached the spool: write them to a segment of their own. */
  function rescueUnspooled(): void {
    const stranded = sealed.flatMap((segment) => segment.unspooled);
    if (stranded.length === 0) return;
    try {
      const fd = openSync(segmentPath(spoolDir, nextSequence++), 'a');
      try {
        for (const event of stranded) writeLine(fd, usageEventToJsonLoosely(event));
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      report(new Error(`${stranded.length} usage events could not be written to the spool and are lost`, { cause: error }));
    }
  }

  if (sealed.length > 0) schedule(0);
  else schedule(flushIntervalMs);

  return {
    record,
    flush,
    close() {
      closing ??= shutDown();
      return closing;
    },
    pending,
  };
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed or unusable: nothing more to release.
  }
}

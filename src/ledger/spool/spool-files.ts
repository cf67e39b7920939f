import { closeSync, createReadStream, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The spool on disk: numbered segment files of one JSON event per line, a lock file naming the
 * process that owns the folder, and rejected.jsonl for events the ledger refused as invalid.
 */
const SEGMENT_NAME = /^segment-(\d+)\.jsonl$/;
const LOCK_NAME = 'recorder.lock';
export const REJECTED_NAME = 'rejected.jsonl';

export function segmentPath(spoolDir: string, sequence: number): string {
  return join(spoolDir, `segment-${String(sequence).padStart(12, '0')}.jsonl`);
}

export function listSegments(spoolDir: string): Array<{ path: string; sequence: number }> {
  return readdirSync(spoolDir)
    .flatMap((name) => {
      const match = SEGMENT_NAME.exec(name);
      return match?.[1] === undefined ? [] : [{ path: join(spoolDir, name), sequence: Number(match[1]) }];
    })
    .sort((left, right) => left.sequence - right.sequence);
}

/** Writes the whole line or throws; a short write is continued, never left half done. */
export function writeLine(fd: number, line: string): void {
  const bytes = Buffer.from(line.endsWith('\n') ? line : `${line}\n`, 'utf8');
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

export interface SpoolLine {
  text: string;
  /** False for a last line without its newline: a write cut short, so never acknowledged. */
  complete: boolean;
}

/** Streams a segment line by line, so a segment larger than memory can still be replayed. */
export async function* readLines(path: string): AsyncGenerator<SpoolLine> {
  let partial = '';
  for await (const chunk of createReadStream(path, { encoding: 'utf8' })) {
    const parts = (partial + String(chunk)).split('\n');
    partial = parts.pop() ?? '';
    for (const text of parts) if (text.length > 0) yield { text, complete: true };
  }
  if (partial.length > 0) yield { text: partial, complete: false };
}

export async function countCompleteLines(path: string): Promise<number> {
  let count = 0;
  for await (const line of readLines(path)) if (line.complete) count += 1;
  return count;
}

export async function setAside(spoolDir: string, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  await appendFile(join(spoolDir, REJECTED_NAME), lines.map((line) => `${line}\n`).join(''), 'utf8');
}

export function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Spool folders locked by recorders in this process (the lock file alone cannot tell them apart). */
const lockedHere = new Set<string>();

function isRunning(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One recorder per spool folder: a second one would replay and delete segments the first is
 * still writing. A lock left by a process that has died (kill -9) is taken over.
 */
export function lockSpool(spoolDir: string): () => void {
  const path = join(spoolDir, LOCK_NAME);
  for (let attempt = 0; ; attempt += 1) {
    try {
      const fd = openSync(path, 'wx');
      writeLine(fd, String(process.pid));
      closeSync(fd);
      lockedHere.add(spoolDir);
      return () => {
        lockedHere.delete(spoolDir);
        removeQuietly(path);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      const holder = Number(readFileSync(path, 'utf8').trim());
      const held = holder === process.pid ? lockedHere.has(spoolDir) : isRunning(holder);
      if (held) throw new Error(`spool ${spoolDir} is in use by process ${holder}; give each gateway its own spool folder`);
      removeQuietly(path);
    }
  }
}

import { closeSync, fsyncSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import type { BatchApi } from '../providers/batch-api.ts';
import type { BatchStore, JobRecord, MergeLine } from './store/batch-store.ts';

/**
 * Writes the job's output: one line per input line, in input order, keyed by the caller's
 * custom_id. Each line is copied from its chunk's result file by offset (the store is read in
 * pages, so memory stays flat whatever the job's size); lines that never got a result (invalid
 * input, cancelled, failed batches) get an error line in the provider's result format. The file is
 * written aside and renamed, so a crash never leaves half an output under the final name.
 */
export async function mergeOutput(store: BatchStore, api: BatchApi, job: JobRecord, outputPath: string): Promise<number> {
  const partial = `${outputPath}.partial`;
  const out = openSync(partial, 'w');
  const sources = new Map<string, number>();
  let written = 0;
  const source = (path: string): number => {
    let fd = sources.get(path);
    if (fd === undefined) {
      fd = openSync(path, 'r');
      sources.set(path, fd);
    }
    return fd;
  };
  const render = (line: MergeLine): string => {
    if (line.outFile === undefined || line.outLength <= 0) {
      return JSON.stringify(api.errorLine(line.customId, line.errorType ?? 'error', line.errorMessage ?? 'no result'));
    }
    const buffer = Buffer.allocUnsafe(line.outLength);
    readSync(source(line.outFile), buffer, 0, line.outLength, line.outOffset);
    const text = buffer.toString('utf8');
    if (line.duplicateOf === undefined) return text;
    // A duplicate shares its first line's answer under its own id.
    return JSON.stringify({ ...(JSON.parse(text) as Record<string, unknown>), [api.idField]: line.customId });
  };
  try {
    await store.mergeLines(job.jobId, async (lines) => {
      writeSync(out, `${lines.map(render).join('\n')}\n`);
      written += lines.length;
    });
    fsyncSync(out);
  } finally {
    closeSync(out);
    for (const fd of sources.values()) closeSync(fd);
  }
  renameSync(partial, outputPath);
  return written;
}

import { createReadStream } from 'node:fs';
import { appendFile, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { BodyRecord, BodyStore } from './body-store.ts';

const FILE = /^bodies-(\d{4}-\d{2}-\d{2})\.jsonl$/;
const DAY_MS = 86_400_000;

function day(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

export function bodyFileName(time: number): string {
  return `bodies-${day(time)}.jsonl`;
}

/**
 * Bodies as one JSON line per call in `<directory>/bodies-YYYY-MM-DD.jsonl` (UTC day of the call),
 * so retention is deleting whole files. Folder and files are private to the gateway's user (they
 * may hold what redaction did not recognise).
 */
export function createDailyFileBodyStore(options: { directory: string; retentionDays: number }): BodyStore {
  const { directory, retentionDays } = options;
  const ready = mkdir(directory, { recursive: true, mode: 0o700 });

  async function files(): Promise<string[]> {
    await ready;
    return (await readdir(directory)).filter((name) => FILE.test(name)).sort();
  }

  return {
    async append(records) {
      await ready;
      const lines = new Map<string, string[]>();
      for (const record of records) {
        const name = bodyFileName(record.time);
        const group = lines.get(name) ?? [];
        group.push(JSON.stringify(record));
        lines.set(name, group);
      }
      for (const [name, group] of lines) await appendFile(join(directory, name), `${group.join('\n')}\n`, { mode: 0o600 });
    },

    async get(requestIds) {
      const wanted = new Set(requestIds);
      const found = new Map<string, BodyRecord>();
      for (const name of await files()) {
        const lines = createInterface({ input: createReadStream(join(directory, name), 'utf8'), crlfDelay: Infinity });
        for await (const line of lines) {
          if (!line) continue;
          const record = JSON.parse(line) as BodyRecord;
          if (wanted.has(record.requestId) && !found.has(record.requestId)) found.set(record.requestId, record);
        }
      }
      return requestIds.flatMap((id) => found.get(id) ?? []);
    },

    async prune(now) {
      const oldestKept = day(now - retentionDays * DAY_MS);
      for (const name of await files()) {
        const date = FILE.exec(name)?.[1];
        if (date !== undefined && date < oldestKept) await rm(join(directory, name), { force: true });
      }
    },

    async close() {
      await ready;
    },
  };
}

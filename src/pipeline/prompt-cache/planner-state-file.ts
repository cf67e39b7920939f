import { mkdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AuditSnapshot } from './prefix-audit.ts';
import type { StatisticsSnapshot } from './prefix-statistics.ts';

/**
 * Where the planner keeps what it learned across restarts. Prefix keys are hashes and audit examples
 * are redacted, so no prompt text is written. A shared store (Redis) can implement the same interface.
 */

export interface PlannerState {
  version: 1;
  savedAt: number;
  statistics: StatisticsSnapshot;
  audit: AuditSnapshot;
}

export interface PlannerStateStore {
  load(): PlannerState | undefined;
  save(state: PlannerState): Promise<void>;
}

/** The planner's state file beside the ledger: `<dataDir>/prompt-cache/planner-state.json`. */
export function plannerStatePath(dataDir: string): string {
  return join(dataDir, 'prompt-cache', 'planner-state.json');
}

export function createFileStateStore(path: string): PlannerStateStore {
  let writing: Promise<void> = Promise.resolve();
  return {
    load() {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        return undefined;
      }
      try {
        const parsed = JSON.parse(text) as PlannerState;
        return parsed.version === 1 ? parsed : undefined;
      } catch {
        // A torn or foreign file: start afresh rather than refuse to serve.
        return undefined;
      }
    },
    save(state) {
      // Writes are serialized and atomic (write then rename), so a reader never sees half a file.
      writing = writing.then(async () => {
        mkdirSync(dirname(path), { recursive: true });
        const temporary = `${path}.${process.pid}.tmp`;
        await writeFile(temporary, JSON.stringify(state));
        await rename(temporary, path);
      });
      return writing;
    },
  };
}

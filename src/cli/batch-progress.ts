import { formatUsd } from '../core/money.ts';
import type { ChunkRecord, JobRecord, JobSummary } from '../batch/store/batch-store.ts';

/** The progress of a running job: a bar redrawn in place on a terminal, plain lines otherwise. */

function usd(amount: bigint): string {
  const text = formatUsd(amount);
  const [whole, fraction = ''] = text.split('.');
  return `$${whole}.${fraction.padEnd(2, '0').slice(0, 4)}`;
}

export function progressLine(job: JobRecord, summary: JobSummary, chunks: readonly ChunkRecord[]): string {
  const { lines } = summary;
  const done = lines.succeeded;
  const failed = lines.failed + lines.invalid + lines.cancelled;
  const pending = lines.pending + lines.queued + lines.duplicate;
  const total = done + failed + pending;
  const inFlight = chunks.filter((chunk) => chunk.state === 'submitted' || chunk.state === 'creating').length;
  const saving = summary.baseline - summary.cost;
  return `${job.jobId} ${done}/${total} done, ${failed} failed, ${pending} pending | ${usd(summary.cost)} so far, saving ${usd(saving)} vs on-demand ${usd(summary.baseline)} | ${inFlight} batches in flight, ${chunks.length} created`;
}

export function createProgressReporter(stream: NodeJS.WriteStream = process.stderr): {
  update: (job: JobRecord, summary: JobSummary, chunks: readonly ChunkRecord[]) => void;
  done: () => void;
} {
  let lastPlain = 0;
  let lastText = '';
  const tty = stream.isTTY === true;
  return {
    update(job, summary, chunks) {
      const text = progressLine(job, summary, chunks);
      if (tty) {
        const { lines } = summary;
        const total = Math.max(1, Object.values(lines).reduce((sum, count) => sum + count, 0));
        const width = 24;
        const filled = Math.round((width * (lines.succeeded + lines.failed + lines.invalid + lines.cancelled)) / total);
        stream.write(`\r\u001b[2K[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${text}`);
        return;
      }
      // Plain output for logs and pipes: a line when something changed, at most every 5 s.
      if (text !== lastText && Date.now() - lastPlain >= 5000) {
        stream.write(`${text}\n`);
        lastPlain = Date.now();
        lastText = text;
      }
    },
    done() {
      if (tty) stream.write('\n');
    },
  };
}

import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { batchPaths, createBatchApi, jobOptions } from '../src/batch/batch-setup.ts';
import { claimJob, createJob, runJob } from '../src/batch/orchestrator.ts';
import { openBatchLedger } from '../src/batch/record-ledger.ts';
import { boundBatchRunnerHeap } from '../src/batch/runner-memory.ts';
import { openDuckDbBatchStore } from '../src/batch/store/duckdb-batch-store.ts';
import { parseConfig, resolveUpstreams, type LoadedConfig } from '../src/config/load-config.ts';
import { formatUsd } from '../src/core/money.ts';
import { openDuckDbLedger } from '../src/ledger/duckdb/duckdb-ledger.ts';
import { createPricer } from '../src/pricing/pricer.ts';

/**
 * npm run bench:batch: a 1,000,000-request OpenAI batch job (BATCH_BENCH_LINES to change it)
 * against the emulator, run in a child process so that its memory is apart. Reports wall time,
 * the orchestrator's peak RSS (goal: under 300 MB), batches created, and the job's cost next to
 * the same requests at the on-demand price (the baseline, priced in the same run).
 */

const LINES = Number(process.env.BATCH_BENCH_LINES ?? 1_000_000);
const DUPLICATE_EVERY = 100;

async function startEmulatorChild(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/batch-emulator.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  return { url: chunk.toString().trim(), stop: () => child.kill('SIGTERM') };
}

async function writeInput(path: string): Promise<void> {
  const out = createWriteStream(path);
  for (let index = 0; index < LINES; index += 1) {
    // Every 100th request repeats an earlier one: identical requests are sent once.
    const topic = index % DUPLICATE_EVERY === 99 ? index - 50 : index;
    const line = JSON.stringify({
      custom_id: `req-${index}`,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'gpt-4o-mini', max_tokens: 16, messages: [{ role: 'system', content: 'Classify the ticket in one word.' }, { role: 'user', content: `Ticket ${topic}: the invoice total looks wrong` }] },
      metadata: { feature: 'ticket-triage', customer: `customer-${index % 7}` },
    });
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

// What `costgate batch run` does before it drives a job (BATCH_BENCH_DEFAULT_HEAP=1 to compare without).
if (process.env.BATCH_BENCH_DEFAULT_HEAP !== '1') boundBatchRunnerHeap();
const directory = mkdtempSync(join(tmpdir(), 'costgate-bench-batch-'));
const emulator = await startEmulatorChild();
try {
  const input = join(directory, 'input.jsonl');
  const started = performance.now();
  await writeInput(input);
  const generatedMs = performance.now() - started;
  const environment = { OPENAI_BASE_URL: `${emulator.url}/v1`, OPENAI_API_KEY: 'sk-bench' };
  const config = parseConfig({ ledger: { path: join(directory, 'ledger.duckdb') }, batch: { pollIntervalMs: 200, maxPollIntervalMs: 1000 } }, environment, 'bench');
  const loaded: LoadedConfig = { config, upstreams: resolveUpstreams(config, environment), source: 'bench' };
  const { storePath, workRoot } = batchPaths(config.batch, config.ledger.path);
  const store = await openDuckDbBatchStore({ path: storePath, hold: true });
  const ledger = await openBatchLedger(config.ledger.path, `${config.ledger.path}.gateway.json`);
  const jobStarted = performance.now();
  const job = await createJob(store, { provider: 'openai', model: undefined, inputPath: input, outputPath: join(directory, 'output.jsonl'), workRoot, options: jobOptions(config.batch, 'openai'), defaults: {} });
  await claimJob(store, job.jobId);
  let lastReport = 0;
  const finished = await runJob(
    {
      store,
      api: await createBatchApi('openai', loaded),
      pricer: createPricer(),
      ledger,
      onProgress: (_job, summary) => {
        if (Date.now() - lastReport < 10_000) return;
        lastReport = Date.now();
        process.stderr.write(`  ${summary.lines.succeeded} done, ${summary.lines.queued + summary.lines.pending} pending, rss ${Math.round(process.memoryUsage().rss / 1e6)} MB\n`);
      },
    },
    job.jobId,
  );
  const wallMs = performance.now() - jobStarted;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const summary = await store.summary(job.jobId);
  const chunks = await store.chunks(job.jobId);
  await ledger.close();
  await store.close();
  const ledgerCheck = await openDuckDbLedger({ path: config.ledger.path });
  const [row] = await ledgerCheck.report({ by: 'provider' });
  await ledgerCheck.close();
  const outputBytes = statSync(join(directory, 'output.jsonl')).size;
  const saving = summary.baseline - summary.cost;
  const table = [
    ['input lines', String(LINES)],
    ['input generated in', `${(generatedMs / 1000).toFixed(1)} s`],
    ['job state', finished.state],
    ['succeeded / failed', `${summary.lines.succeeded} / ${summary.lines.failed + summary.lines.invalid}`],
    ['duplicates sent once', String(finished.duplicateLines)],
    ['provider batches created', String(chunks.length)],
    ['wall time (ingest to merged output)', `${(wallMs / 1000).toFixed(1)} s`],
    ['peak RSS (orchestrator process)', `${peakRssMb.toFixed(0)} MB`],
    ['output file', `${(outputBytes / 1e6).toFixed(0)} MB`],
    ['ledger rows', String(row?.requests ?? 0)],
    ['cost at batch price', `$${formatUsd(summary.cost)}`],
    ['baseline: same requests on demand', `$${formatUsd(summary.baseline)}`],
    ['saving', `$${formatUsd(saving)} (${summary.baseline > 0n ? Number((saving * 1000n) / summary.baseline) / 10 : 0}%)`],
  ];
  const width = Math.max(...table.map(([name]) => name?.length ?? 0));
  for (const [name, value] of table) console.log(`${(name ?? '').padEnd(width)}  ${value}`);
  console.log(
    `batch bench: ${LINES} requests in ${(wallMs / 1000).toFixed(1)} s, peak RSS ${peakRssMb.toFixed(0)} MB (goal < 300), ${chunks.length} batches, cost $${formatUsd(summary.cost)} vs on-demand $${formatUsd(summary.baseline)}`,
  );
} finally {
  emulator.stop();
  rmSync(directory, { recursive: true, force: true });
}

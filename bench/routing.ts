/**
 * npm run bench:routing
 *
 * What routing costs in time, measured through the gateway against the emulator in one run:
 * - streamed calls: direct to the strong model (no routing), a cascade whose cheap answer is
 *   accepted (buffered, scored, then replayed), and a cascade that escalates (cheap "I don't know",
 *   then the strong model streamed live). Upstreams answer after 200 ms and stream one token every
 *   100 ms (emu-latency-200, emu-slow-stream), so the buffering cost is visible as time to first byte.
 * - non-streamed calls: direct vs an accepted cascade vs an escalation (the answer is held anyway).
 * - the classifier's decision: featurising a prompt and predicting, per call, in-process.
 * Ends with one summary line. Knobs: BENCH_CALLS (per mode, default 6), BENCH_REPLY_TOKENS (default 8).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, resolveUpstreams, type LoadedConfig } from '../src/config/load-config.ts';
import { startEmulator } from '../src/emulator/index.ts';
import { createRandom, loadRouterModel, trainRouterModel, type TrainingExample } from '../src/pipeline/router/model/router-model.ts';
import { startGateway } from '../src/server/start-gateway.ts';

const CALLS = Number(process.env.BENCH_CALLS ?? 6);
const REPLY_TOKENS = Number(process.env.BENCH_REPLY_TOKENS ?? 8);
// Every upstream waits 200 ms before answering, then streams one token per 100 ms.
const SLOW = 'emu-latency-200-emu-slow-stream';

interface Timing {
  ttfbMs: number;
  totalMs: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

async function timeCall(url: string, feature: string, stream: boolean, index: number): Promise<Timing> {
  const started = performance.now();
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-costgate-feature': feature, 'x-emulator-reply-tokens': String(REPLY_TOKENS) },
    body: JSON.stringify({ model: `gpt-4o-${SLOW}`, stream, messages: [{ role: 'user', content: `Question ${index}: what does the refund policy say?` }] }),
  });
  if (!response.body) throw new Error('no body');
  const reader = response.body.getReader();
  let ttfb: number | undefined;
  for (;;) {
    const { done, value } = await reader.read();
    if (value && ttfb === undefined) ttfb = performance.now() - started;
    if (done) break;
  }
  if (response.status !== 200) throw new Error(`status ${response.status}`);
  return { ttfbMs: ttfb ?? performance.now() - started, totalMs: performance.now() - started };
}

function classifierTiming(): { perCallUs: number; promptChars: number } {
  const random = createRandom(5);
  const words = 'the cost of a model call depends on tokens prompt answer cache batch route tier quality theorem integral proof lemma hello thanks'.split(' ');
  const prompt = () => Array.from({ length: 80 }, () => words[Math.floor(random() * words.length)]).join(' ');
  const examples: TrainingExample[] = Array.from({ length: 400 }, (_, index) => ({ prompt: prompt(), outcomes: { weak: index % 3 === 0 ? 0 : 1, strong: 1 } }));
  const router = loadRouterModel(trainRouterModel(examples, ['weak', 'strong']));
  const prompts = Array.from({ length: 2000 }, prompt);
  for (const text of prompts.slice(0, 200)) router.predict(text);
  const started = performance.now();
  for (const text of prompts) router.predict(text);
  return { perCallUs: ((performance.now() - started) * 1000) / prompts.length, promptChars: Math.round(prompts.reduce((sum, text) => sum + text.length, 0) / prompts.length) };
}

async function main(): Promise<void> {
  const emulator = await startEmulator({ port: 0 });
  const directory = mkdtempSync(join(tmpdir(), 'costgate-bench-routing-'));
  const environment = { OPENAI_BASE_URL: `${emulator.url}/v1`, OPENAI_API_KEY: 'sk-bench' };
  const config = parseConfig(
    {
      prices: {
        overrides: [
          { provider: 'openai', model: 'gpt-4o-mini-emu*', inputPerMTok: 0.15, outputPerMTok: 0.6 },
          { provider: 'openai', model: 'gpt-4o-emu*', inputPerMTok: 2.5, outputPerMTok: 10 },
        ],
      },
      router: {
        enabled: true,
        features: {
          accepted: { strategy: 'cascade', tiers: [`gpt-4o-mini-${SLOW}`, `gpt-4o-${SLOW}`] },
          escalated: { strategy: 'cascade', tiers: [`gpt-4o-mini-emu-unsure-${SLOW}`, `gpt-4o-${SLOW}`] },
        },
      },
    },
    environment,
    'bench',
  );
  const loaded: LoadedConfig = { config, upstreams: resolveUpstreams(config, environment), source: 'bench' };
  const gateway = await startGateway({ loaded, port: 0, ledgerPath: join(directory, 'ledger.duckdb') });
  const rows: Array<{ mode: string; ttfb: number; total: number }> = [];
  try {
    for (const stream of [true, false]) {
      const results: Record<string, Timing[]> = { direct: [], accepted: [], escalated: [] };
      // Interleaved so that any drift in machine load hits every mode alike.
      for (let index = 0; index < CALLS; index += 1) {
        for (const mode of ['direct', 'accepted', 'escalated'] as const) results[mode]?.push(await timeCall(gateway.url, mode, stream, index));
      }
      for (const [mode, timings] of Object.entries(results)) {
        rows.push({ mode: `${stream ? 'stream' : 'json'} ${mode}`, ttfb: median(timings.map((timing) => timing.ttfbMs)), total: median(timings.map((timing) => timing.totalMs)) });
      }
    }
  } finally {
    await gateway.close();
    await emulator.close();
    rmSync(directory, { recursive: true, force: true });
  }
  const classifier = classifierTiming();

  console.log(`routing latency, median of ${CALLS} calls per mode; upstream: 200 ms to first byte, then ${REPLY_TOKENS} tokens at 100 ms each (streams; non-streamed answers come whole after 200 ms)`);
  console.log('mode                      TTFB ms   total ms');
  for (const row of rows) console.log(`${row.mode.padEnd(24)} ${row.ttfb.toFixed(0).padStart(7)} ${row.total.toFixed(0).padStart(10)}`);
  console.log(`classifier decision: ${classifier.perCallUs.toFixed(0)} µs per call (prompts of ${classifier.promptChars} chars, in-process)`);
  const find = (mode: string) => rows.find((row) => row.mode === mode) as { ttfb: number; total: number };
  const direct = find('stream direct');
  const accepted = find('stream accepted');
  const escalated = find('stream escalated');
  console.log(
    `summary: streamed cascade TTFB ${accepted.ttfb.toFixed(0)} ms vs ${direct.ttfb.toFixed(0)} ms direct (+${(accepted.ttfb - direct.ttfb).toFixed(0)} ms, the cheap answer's generation time); escalation TTFB ${escalated.ttfb.toFixed(0)} ms (+${(escalated.ttfb - direct.ttfb).toFixed(0)} ms); classifier ${classifier.perCallUs.toFixed(0)} µs/call`,
  );
}

await main();

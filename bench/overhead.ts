import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chatRequest } from './chat-request.ts';
import { fetchOnce, LoadGenerator, type LoadRequest } from './load.ts';
import { CELLS, TARGETS, cellName, emptyTally, printReport, type Cell, type TargetName, type Tally } from './overhead-report.ts';
import { TargetProcess, type ProcessMeasurement } from './target-process.ts';
import { setting } from './env-setting.ts';

/**
 * `npm run bench:overhead`: what costgate adds on top of the upstream, next to the floor a bare
 * Node proxy sets, measured in the same run. The emulator, costgate and the bare proxy each run in
 * their own process so each one's CPU time is read alone; the load generator runs here. Targets
 * take turns within every round (in a rotating order) so drift in the machine hits all of them.
 *
 * Knobs (environment): BENCH_ROUNDS, BENCH_ROUND_MS, BENCH_WARMUP_MS, BENCH_REPLY_TOKENS;
 * BENCH_CPU_PROFILE=<dir> writes a --cpu-prof profile of the costgate process there (read it with
 * bench/summarize-cpu-profile.ts); BENCH_COSTGATE_USAGE=spool|off swaps the DuckDB ledger for a
 * counting one or drops usage events, to see what each part of the bookkeeping costs.
 */

const settings = {
  rounds: setting('BENCH_ROUNDS', 5),
  roundMs: setting('BENCH_ROUND_MS', 2000),
  warmupMs: setting('BENCH_WARMUP_MS', 1500),
  replyTokens: setting('BENCH_REPLY_TOKENS', 64),
  profileDirectory: process.env['BENCH_CPU_PROFILE'],
  costgateUsage: process.env['BENCH_COSTGATE_USAGE'] ?? 'duckdb',
};

const MAX_CONCURRENCY = Math.max(...CELLS.map((cell) => cell.concurrency));

interface Target {
  name: TargetName;
  url: string;
  load: LoadGenerator;
  /** The process whose CPU is charged to this target; none for direct calls. */
  proxy: TargetProcess | undefined;
}

/** Fails fast, before any timing, if a target does not answer like OpenAI would. */
async function checkTarget(target: Target, stream: boolean): Promise<void> {
  const response = await fetchOnce(target.url, chatRequest(stream));
  const problem = (reason: string) =>
    new Error(`${target.name} (${stream ? 'stream' : 'json'}) answered wrongly: ${reason}\n${response.body.slice(0, 500)}`);
  if (response.status !== 200) throw problem(`HTTP ${response.status}`);
  if (stream) {
    if (!response.body.includes('"chat.completion.chunk"') || !response.body.trimEnd().endsWith('data: [DONE]')) {
      throw problem('not a complete chat.completion.chunk stream');
    }
    return;
  }
  const body = JSON.parse(response.body) as { choices?: Array<{ message?: { content?: string } }>; usage?: { prompt_tokens?: number } };
  if (!body.choices?.[0]?.message?.content || !body.usage?.prompt_tokens) throw problem('no reply text or usage');
  if (target.name === 'costgate' && response.headers['x-costgate-cost-usd'] === undefined) {
    throw problem('no x-costgate-cost-usd header: the call was not priced');
  }
}

interface Window {
  requests: number;
  proxyCpuMicroseconds: number;
  proxyMainThreadCpuMicroseconds: number | undefined;
  emulatorCpuMicroseconds: number;
  peakRssBytes: number;
}

async function measureWindow(
  target: Target,
  emulator: TargetProcess,
  request: LoadRequest,
  cell: Cell,
  durationMs: number,
  tally: Tally | undefined,
): Promise<Window> {
  const [proxyBefore, emulatorBefore] = await Promise.all([target.proxy?.measure(), emulator.measure()]);
  const result = await target.load.run(request, cell.concurrency, durationMs);
  const [proxyAfter, emulatorAfter] = await Promise.all([target.proxy?.measure(), emulator.measure()]);
  if (result.failures > 0) {
    throw new Error(`${target.name} ${cellName(cell)}: ${result.failures} failed requests, first: ${result.firstFailure}`);
  }
  const cpu = (before: ProcessMeasurement | undefined, after: ProcessMeasurement | undefined) =>
    before && after ? after.cpuMicroseconds - before.cpuMicroseconds : 0;
  const mainThreadBefore = proxyBefore?.mainThreadCpuMicroseconds;
  const mainThreadAfter = proxyAfter?.mainThreadCpuMicroseconds;
  const window: Window = {
    requests: result.requests,
    proxyCpuMicroseconds: cpu(proxyBefore, proxyAfter),
    proxyMainThreadCpuMicroseconds:
      mainThreadBefore === undefined || mainThreadAfter === undefined ? undefined : mainThreadAfter - mainThreadBefore,
    emulatorCpuMicroseconds: cpu(emulatorBefore, emulatorAfter),
    peakRssBytes: proxyAfter?.peakRssBytes ?? 0,
  };
  if (tally) {
    tally.requests += result.requests;
    tally.elapsedMs += result.elapsedMs;
    for (const latency of result.latenciesMs) tally.latenciesMs.push(latency);
    for (const firstByte of result.firstByteMs) tally.firstByteMs.push(firstByte);
    tally.proxyCpuMicroseconds += window.proxyCpuMicroseconds;
    tally.proxyMainThreadCpuMicroseconds =
      tally.proxyMainThreadCpuMicroseconds === undefined || window.proxyMainThreadCpuMicroseconds === undefined
        ? undefined
        : tally.proxyMainThreadCpuMicroseconds + window.proxyMainThreadCpuMicroseconds;
    tally.emulatorCpuMicroseconds += window.emulatorCpuMicroseconds;
    tally.peakRssBytes = Math.max(tally.peakRssBytes, window.peakRssBytes);
    if (result.requests > 0) tally.roundCpuPerRequestMs.push(window.proxyCpuMicroseconds / 1000 / result.requests);
  }
  return window;
}

async function main(): Promise<void> {
  const began = performance.now();
  const cpuModel = cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `costgate overhead benchmark: node ${process.version}, ${availableParallelism()} CPUs (${cpuModel}); ` +
      `${settings.rounds} rounds x ${settings.roundMs} ms per target and cell, warm-up ${settings.warmupMs} ms; ` +
      `${chatRequest(false).body.length}-byte gpt-4o-mini chat request, ${settings.replyTokens}-token replies` +
      (settings.costgateUsage === 'duckdb' ? '' : `; DIAGNOSTIC costgate usage mode: ${settings.costgateUsage}`),
  );
  const scratch = mkdtempSync(join(tmpdir(), 'costgate-bench-'));
  const children: TargetProcess[] = [];
  const spawn = async (...args: Parameters<typeof TargetProcess.spawn>) => {
    const child = await TargetProcess.spawn(...args);
    children.push(child);
    return child;
  };
  const loads: LoadGenerator[] = [];
  try {
    const emulator = await spawn('emulator', './run-emulator.ts', [String(settings.replyTokens)]);
    const profileFlags = settings.profileDirectory ? ['--cpu-prof', `--cpu-prof-dir=${settings.profileDirectory}`] : [];
    const [costgate, bareProxy] = await Promise.all([
      spawn('costgate', './run-gateway.ts', [emulator.url, join(scratch, 'ledger.duckdb'), settings.costgateUsage], {
        nodeFlags: profileFlags,
      }),
      spawn('bare-proxy', './run-bare-proxy.ts', [emulator.url]),
    ]);
    const target = (name: TargetName, url: string, proxy: TargetProcess | undefined): Target => {
      const load = new LoadGenerator(url, MAX_CONCURRENCY);
      loads.push(load);
      return { name, url, load, proxy };
    };
    const targets: Record<TargetName, Target> = {
      direct: target('direct', emulator.url, undefined),
      costgate: target('costgate', costgate.url, costgate),
      'bare-proxy': target('bare-proxy', bareProxy.url, bareProxy),
    };

    let costgateRequests = 0;
    for (const name of TARGETS) {
      for (const stream of [false, true]) await checkTarget(targets[name], stream);
    }
    costgateRequests += 2;

    const requests = { json: chatRequest(false), stream: chatRequest(true) };
    const requestFor = (cell: Cell) => (cell.stream ? requests.stream : requests.json);
    for (const cell of CELLS) {
      for (const name of TARGETS) {
        const window = await measureWindow(targets[name], emulator, requestFor(cell), cell, settings.warmupMs, undefined);
        if (name === 'costgate') costgateRequests += window.requests;
      }
    }

    const tallies = new Map<string, Tally>();
    const tallyFor = (name: TargetName, cell: Cell): Tally => {
      const key = `${name} ${cellName(cell)}`;
      let tally = tallies.get(key);
      if (!tally) tallies.set(key, (tally = emptyTally()));
      return tally;
    };
    for (let round = 0; round < settings.rounds; round += 1) {
      for (const cell of CELLS) {
        // Rotate who goes first so no target always follows the same neighbour.
        const order = TARGETS.map((_, index) => TARGETS[(index + round) % TARGETS.length] as TargetName);
        for (const name of order) {
          const window = await measureWindow(targets[name], emulator, requestFor(cell), cell, settings.roundMs, tallyFor(name, cell));
          if (name === 'costgate') costgateRequests += window.requests;
        }
      }
      process.stderr.write(`round ${round + 1}/${settings.rounds} done\n`);
    }

    await Promise.all(loads.map((load) => load.close()));
    loads.length = 0;
    const costgateFacts = await costgate.close();
    await bareProxy.close();
    await emulator.close();
    printReport({
      tallies: (name, cell) => tallyFor(name, cell),
      costgateRequests,
      ledgerRows: typeof costgateFacts['ledgerRows'] === 'number' ? costgateFacts['ledgerRows'] : undefined,
      elapsedSeconds: (performance.now() - began) / 1000,
    });
  } finally {
    await Promise.allSettled(loads.map((load) => load.close()));
    for (const child of children) child.kill();
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();

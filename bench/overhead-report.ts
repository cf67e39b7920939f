import { fixed, percentile, renderTable, signed, sortedCopy } from './statistics.ts';

/** What bench/overhead.ts measures, and the table and verdicts it prints. */

export type TargetName = 'direct' | 'costgate' | 'bare-proxy';
export const TARGETS: readonly TargetName[] = ['direct', 'costgate', 'bare-proxy'];

export interface Cell {
  concurrency: number;
  stream: boolean;
}

export const CELLS: readonly Cell[] = [
  { concurrency: 1, stream: false },
  { concurrency: 1, stream: true },
  { concurrency: 64, stream: false },
  { concurrency: 64, stream: true },
];

export function cellName(cell: Cell): string {
  return `c${cell.concurrency} ${cell.stream ? 'stream' : 'json'}`;
}

/** The goals from the spec, as costgate minus (or over) the bare proxy. */
const GOALS = { cpuRatio: 1.6, p50Ms: 0.5, p99Ms: 2, firstByteMs: 0.5 };

/** Everything measured for one target in one cell, summed over the rounds. */
export interface Tally {
  requests: number;
  elapsedMs: number;
  latenciesMs: number[];
  firstByteMs: number[];
  proxyCpuMicroseconds: number;
  /** Undefined once any window could not read it. */
  proxyMainThreadCpuMicroseconds: number | undefined;
  emulatorCpuMicroseconds: number;
  peakRssBytes: number;
  roundCpuPerRequestMs: number[];
}

export function emptyTally(): Tally {
  return {
    requests: 0,
    elapsedMs: 0,
    latenciesMs: [],
    firstByteMs: [],
    proxyCpuMicroseconds: 0,
    proxyMainThreadCpuMicroseconds: 0,
    emulatorCpuMicroseconds: 0,
    peakRssBytes: 0,
    roundCpuPerRequestMs: [],
  };
}

interface Figures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  firstByteP50Ms: number;
  cpuPerRequestMs: number;
  mainThreadCpuPerRequestMs: number;
  emulatorCpuPerRequestMs: number;
  peakRssMegabytes: number;
}

function figures(tally: Tally): Figures {
  const latencies = sortedCopy(tally.latenciesMs);
  const firstBytes = sortedCopy(tally.firstByteMs);
  return {
    requestsPerSecond: tally.requests / (tally.elapsedMs / 1000),
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    firstByteP50Ms: percentile(firstBytes, 0.5),
    cpuPerRequestMs: tally.proxyCpuMicroseconds / 1000 / tally.requests,
    mainThreadCpuPerRequestMs: (tally.proxyMainThreadCpuMicroseconds ?? Number.NaN) / 1000 / tally.requests,
    emulatorCpuPerRequestMs: tally.emulatorCpuMicroseconds / 1000 / tally.requests,
    peakRssMegabytes: tally.peakRssBytes / 1024 / 1024,
  };
}

export interface ReportInput {
  tallies: (name: TargetName, cell: Cell) => Tally;
  costgateRequests: number;
  ledgerRows: number | undefined;
  elapsedSeconds: number;
}

function verdict(pass: boolean): string {
  return pass ? 'pass' : 'MISS';
}

export function printReport(input: ReportInput): void {
  const measured = (name: TargetName, cell: Cell) => figures(input.tallies(name, cell));

  const rows = CELLS.flatMap((cell) =>
    TARGETS.map((name) => {
      const result = measured(name, cell);
      const isProxy = name !== 'direct';
      return [
        name,
        String(cell.concurrency),
        cell.stream ? 'stream' : 'json',
        fixed(result.requestsPerSecond, 0),
        fixed(result.p50Ms, 3),
        fixed(result.p99Ms, 3),
        cell.stream ? fixed(result.firstByteP50Ms, 3) : '-',
        isProxy ? fixed(result.cpuPerRequestMs, 3) : '-',
        isProxy ? fixed(result.peakRssMegabytes, 0) : '-',
      ];
    }),
  );
  console.log('');
  console.log(
    renderTable(['target', 'conc', 'mode', 'req/s', 'p50 ms', 'p99 ms', 'ttfb p50 ms', 'cpu/req ms', 'peak RSS MB'], rows),
  );

  // Same emulator work sits behind every target, so its CPU per request should match across them.
  const emulatorCpu = CELLS.map(
    (cell) => `${cellName(cell)} ${TARGETS.map((name) => fixed(measured(name, cell).emulatorCpuPerRequestMs, 3)).join('/')}`,
  );
  console.log(`emulator cpu/req ms (direct/costgate/bare-proxy), a sanity check: ${emulatorCpu.join('; ')}`);
  for (const name of TARGETS.filter((target) => target !== 'direct')) {
    const split = CELLS.map((cell) => {
      const result = measured(name, cell);
      return `${cellName(cell)} ${fixed(result.mainThreadCpuPerRequestMs, 3)}/${fixed(result.cpuPerRequestMs - result.mainThreadCpuPerRequestMs, 3)}`;
    });
    console.log(`${name} cpu/req ms on the JavaScript thread/other threads: ${split.join('; ')}`);
  }

  const comparisons: string[][] = [];
  const misses: string[] = [];
  const judge = (what: string, costgate: number, bare: number, difference: string, goal: string, pass: boolean, note = '') => {
    comparisons.push([what, fixed(costgate, 3), fixed(bare, 3), difference, goal, verdict(pass), note]);
    if (!pass) misses.push(what);
  };
  for (const cell of CELLS) {
    const costgate = input.tallies('costgate', cell);
    const bare = input.tallies('bare-proxy', cell);
    const ratio = figures(costgate).cpuPerRequestMs / figures(bare).cpuPerRequestMs;
    const roundRatios = costgate.roundCpuPerRequestMs.map((value, round) => value / (bare.roundCpuPerRequestMs[round] ?? Number.NaN));
    const spread = `rounds ${fixed(Math.min(...roundRatios), 2)}x-${fixed(Math.max(...roundRatios), 2)}x`;
    judge(`cpu/req ${cellName(cell)}`, figures(costgate).cpuPerRequestMs, figures(bare).cpuPerRequestMs, `${fixed(ratio, 2)}x`, `<= ${GOALS.cpuRatio}x`, ratio <= GOALS.cpuRatio, spread);
  }
  for (const cell of CELLS.filter((candidate) => candidate.concurrency === 1)) {
    const costgate = measured('costgate', cell);
    const bare = measured('bare-proxy', cell);
    const p50 = costgate.p50Ms - bare.p50Ms;
    const p99 = costgate.p99Ms - bare.p99Ms;
    judge(`p50 ${cellName(cell)}`, costgate.p50Ms, bare.p50Ms, `${signed(p50, 3)} ms`, `<= +${GOALS.p50Ms} ms`, p50 <= GOALS.p50Ms);
    judge(`p99 ${cellName(cell)}`, costgate.p99Ms, bare.p99Ms, `${signed(p99, 3)} ms`, `<= +${GOALS.p99Ms} ms`, p99 <= GOALS.p99Ms);
    if (cell.stream) {
      const firstByte = costgate.firstByteP50Ms - bare.firstByteP50Ms;
      judge(`ttfb p50 ${cellName(cell)}`, costgate.firstByteP50Ms, bare.firstByteP50Ms, `${signed(firstByte, 3)} ms`, `<= +${GOALS.firstByteMs} ms`, firstByte <= GOALS.firstByteMs);
    }
  }
  console.log('');
  console.log(renderTable(['costgate vs bare proxy', 'costgate', 'bare', 'ratio/diff', 'goal', 'result', ''], comparisons));

  const ledger =
    input.ledgerRows === undefined
      ? 'ledger row count unavailable'
      : `${input.ledgerRows} rows for ${input.costgateRequests} requests through costgate` +
        (input.ledgerRows === input.costgateRequests ? ' (all recorded)' : ' (MISMATCH)');
  console.log(`\nledger: ${ledger}; run took ${input.elapsedSeconds.toFixed(0)} s`);

  // Headline: each cell weighs the same, so the fast c64 cells do not drown out c1.
  const meanCpu = (name: TargetName) => CELLS.reduce((sum, cell) => sum + measured(name, cell).cpuPerRequestMs, 0) / CELLS.length;
  const costgateCpu = meanCpu('costgate');
  const bareCpu = meanCpu('bare-proxy');
  const c1 = CELLS.filter((cell) => cell.concurrency === 1);
  const worst = (pick: (figures: Figures) => number) =>
    Math.max(...c1.map((cell) => pick(measured('costgate', cell)) - pick(measured('bare-proxy', cell))));
  const streamC1 = c1.find((cell) => cell.stream) as Cell;
  const firstByte = measured('costgate', streamC1).firstByteP50Ms - measured('bare-proxy', streamC1).firstByteP50Ms;
  const ratios = CELLS.map((cell) => measured('costgate', cell).cpuPerRequestMs / measured('bare-proxy', cell).cpuPerRequestMs);
  console.log(
    `overhead: cpu/req costgate ${fixed(costgateCpu, 3)} ms vs bare ${fixed(bareCpu, 3)} ms ` +
      `(${fixed(costgateCpu / bareCpu, 2)}x, cells ${fixed(Math.min(...ratios), 2)}x-${fixed(Math.max(...ratios), 2)}x); ` +
      `c1 p50 ${signed(worst((result) => result.p50Ms), 3)} ms, p99 ${signed(worst((result) => result.p99Ms), 3)} ms; ` +
      `ttfb ${signed(firstByte, 3)} ms; goals ${misses.length === 0 ? 'pass' : `MISS (${misses.join(', ')})`}`,
  );
}

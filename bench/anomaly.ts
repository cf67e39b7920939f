/**
 * npm run bench:anomaly: costgate's anomaly detector against static dollar thresholds on synthetic
 * hourly series (8 weeks, daily and weekly cycles, growth, noise, injected anomalies of several
 * kinds and sizes), over several seeds. The thresholds are tuned on the very data they are scored
 * on (their best case); the detector's settings are its defaults, the same for every seed.
 *
 * Scoring: an alert is a true positive when it falls in an injected anomaly of its series, or up to
 * two hours after it ends; otherwise a false positive. An anomaly is found when any alert matches
 * it; its delay is from its start to the end of the first matching hour.
 */
import { AlertGate } from '../src/analytics/anomaly/alert-gate.ts';
import { DEFAULT_DETECTOR_OPTIONS, detectAnomalies, HOUR_MS } from '../src/analytics/anomaly/detector.ts';
import { generateSeries, type InjectedAnomaly, type InjectedKind, type SyntheticSeries } from '../src/analytics/anomaly/synthetic-series.ts';

const SEEDS = (process.env.SEEDS ?? '1,2,3,4,5').split(',').map(Number);
const SERIES = Number(process.env.SERIES ?? 40);
const WEEKS = 8;
/** Judging starts after two weeks: the first week after that runs on the daily fallback season. */
const FIRST_JUDGED_HOUR = 14 * 24;
const COOLDOWN_MS = 6 * HOUR_MS;
/** Exploration only (THRESHOLD=4 npm run bench:anomaly); the published run uses the defaults. */
const DETECTOR = {
  ...DEFAULT_DETECTOR_OPTIONS,
  ...(process.env.THRESHOLD ? { threshold: Number(process.env.THRESHOLD) } : {}),
  ...(process.env.MIN_COST_USD ? { minCostUsd: Number(process.env.MIN_COST_USD) } : {}),
};
const GRACE_MS = 2 * HOUR_MS;

interface Alert {
  seriesKey: string;
  hour: number;
}

interface Score {
  alerts: number;
  truePositives: number;
  anomalies: InjectedAnomaly[];
  found: Map<InjectedAnomaly, number>;
}

function score(alerts: readonly Alert[], anomalies: readonly InjectedAnomaly[]): Score {
  let truePositives = 0;
  const found = new Map<InjectedAnomaly, number>();
  for (const alert of alerts) {
    const match = anomalies.find((anomaly) => anomaly.seriesKey === alert.seriesKey && alert.hour >= anomaly.start && alert.hour < anomaly.end + GRACE_MS);
    if (!match) continue;
    truePositives += 1;
    const delay = (alert.hour + HOUR_MS - match.start) / HOUR_MS;
    if (!found.has(match) || delay < (found.get(match) as number)) found.set(match, delay);
  }
  return { alerts: alerts.length, truePositives, anomalies: [...anomalies], found };
}

function merge(scores: readonly Score[]): Score {
  const found = new Map<InjectedAnomaly, number>();
  for (const one of scores) for (const [anomaly, delay] of one.found) found.set(anomaly, delay);
  return {
    alerts: scores.reduce((sum, one) => sum + one.alerts, 0),
    truePositives: scores.reduce((sum, one) => sum + one.truePositives, 0),
    anomalies: scores.flatMap((one) => one.anomalies),
    found,
  };
}

const precision = (one: Score) => (one.alerts === 0 ? 1 : one.truePositives / one.alerts);

function recall(one: Score, select: (anomaly: InjectedAnomaly) => boolean, withinHours = Number.POSITIVE_INFINITY): { value: number; of: number } {
  const chosen = one.anomalies.filter(select);
  const hit = chosen.filter((anomaly) => one.found.has(anomaly) && (one.found.get(anomaly) as number) <= withinHours);
  return { value: chosen.length === 0 ? Number.NaN : hit.length / chosen.length, of: chosen.length };
}

function medianDelay(one: Score): number {
  const delays = [...one.found.values()].sort((a, b) => a - b);
  return delays.length === 0 ? Number.NaN : (delays[Math.floor((delays.length - 1) / 2)] as number);
}

const bigSpike = (anomaly: InjectedAnomaly) => anomaly.kind === 'spike' && anomaly.size >= 5;
const f1 = (one: Score) => {
  const p = precision(one);
  const r = recall(one, () => true).value;
  return p + r === 0 ? 0 : (2 * p * r) / (p + r);
};

function judgedRange(series: SyntheticSeries): { from: number; to: number } {
  const start = series.points[0]?.hour ?? 0;
  return { from: start + FIRST_JUDGED_HOUR * HOUR_MS, to: start + WEEKS * 168 * HOUR_MS };
}

function costgateAlerts(all: readonly SyntheticSeries[]): Alert[] {
  const alerts: Alert[] = [];
  for (const series of all) {
    const gate = new AlertGate({ cooldownMs: COOLDOWN_MS });
    const findings = detectAnomalies({ dimension: 'feature', key: series.key }, series.points, judgedRange(series), DETECTOR);
    for (const finding of findings) if (gate.admit(finding)) alerts.push({ seriesKey: series.key, hour: finding.hour });
  }
  return alerts;
}

function usd(cost: bigint): number {
  return Number(cost) / 1e12;
}

/** Alert when an hour's cost exceeds the series' threshold, with the same cooldown as costgate. */
function thresholdAlerts(all: readonly SyntheticSeries[], threshold: (series: SyntheticSeries) => number): Alert[] {
  const alerts: Alert[] = [];
  for (const series of all) {
    const limit = threshold(series);
    const { from } = judgedRange(series);
    let last = Number.NEGATIVE_INFINITY;
    for (const point of series.points) {
      if (point.hour < from || usd(point.cost) <= limit || point.hour - last < COOLDOWN_MS) continue;
      last = point.hour;
      alerts.push({ seriesKey: series.key, hour: point.hour });
    }
  }
  return alerts;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** The best single dollar amount for all series, chosen by F1 on the data it is scored on. */
function tunedGlobal(all: readonly SyntheticSeries[], anomalies: readonly InjectedAnomaly[]): { alerts: Alert[]; label: string } {
  const costs = all.flatMap((series) => series.points.map((point) => usd(point.cost)));
  let best: { alerts: Alert[]; f1: number; limit: number } = { alerts: [], f1: -1, limit: 0 };
  for (let q = 0.5; q < 0.9995; q += (1 - q) * 0.15) {
    const limit = quantile(costs, q);
    const alerts = thresholdAlerts(all, () => limit);
    const value = f1(score(alerts, anomalies));
    if (value > best.f1) best = { alerts, f1: value, limit };
  }
  return { alerts: best.alerts, label: `$${best.limit.toFixed(2)}/h` };
}

/** Per series: m x that series' 99th-percentile hour of its first two weeks, m chosen by F1 on the same data. */
function tunedPerSeries(all: readonly SyntheticSeries[], anomalies: readonly InjectedAnomaly[]): { alerts: Alert[]; label: string } {
  const reference = new Map(
    all.map((series) => {
      const { from } = judgedRange(series);
      return [series.key, quantile(series.points.filter((point) => point.hour < from).map((point) => usd(point.cost)), 0.99)];
    }),
  );
  let best: { alerts: Alert[]; f1: number; multiple: number } = { alerts: [], f1: -1, multiple: 0 };
  for (let multiple = 0.8; multiple <= 8; multiple *= 1.1) {
    const alerts = thresholdAlerts(all, (series) => multiple * (reference.get(series.key) ?? 0));
    const value = f1(score(alerts, anomalies));
    if (value > best.f1) best = { alerts, f1: value, multiple };
  }
  return { alerts: best.alerts, label: `${best.multiple.toFixed(2)}x own p99` };
}

const format = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
const KINDS: InjectedKind[] = ['spike', 'level_shift', 'prompt_bloat', 'cache_collapse', 'model_change'];

const totals: Record<string, Score[]> = { costgate: [], 'static, global $': [], 'static, per series': [] };
const rows: string[][] = [];
const started = performance.now();
for (const seed of SEEDS) {
  const all = generateSeries({ seed, series: SERIES, weeks: WEEKS, firstAnomalyHour: FIRST_JUDGED_HOUR });
  const anomalies = all.flatMap((series) => series.anomalies);
  const global = tunedGlobal(all, anomalies);
  const perSeries = tunedPerSeries(all, anomalies);
  const runs: Array<[string, Alert[], string]> = [
    ['costgate', costgateAlerts(all), `z>=${DETECTOR.threshold}, >=$${DETECTOR.minCostUsd}/h`],
    ['static, global $', global.alerts, global.label],
    ['static, per series', perSeries.alerts, perSeries.label],
  ];
  for (const [name, alerts, label] of runs) {
    const result = score(alerts, anomalies);
    totals[name]?.push(result);
    const spikes = recall(result, bigSpike, 2);
    rows.push([
      String(seed),
      name,
      label,
      String(result.alerts),
      format(precision(result)),
      format(recall(result, () => true).value),
      `${format(spikes.value)} (${spikes.of})`,
      format(medianDelay(result), 1),
    ]);
  }
}

function table(header: string[], body: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => cells[column]?.length ?? 0)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ');
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...body.map(line)].join('\n');
}

console.log(`Anomaly detection: ${SEEDS.length} seeds x ${SERIES} series x ${WEEKS} weeks hourly; judged from day ${FIRST_JUDGED_HOUR / 24}; cooldown ${COOLDOWN_MS / HOUR_MS} h\n`);
console.log(table(['seed', 'detector', 'setting', 'alerts', 'precision', 'recall', 'recall >=5x spikes <=2h', 'median delay h'], rows));

const summary: Record<string, { precision: number; recall: number; spikes: number; delay: number }> = {};
const kindRows: string[][] = [];
for (const [name, scores] of Object.entries(totals)) {
  const all = merge(scores);
  summary[name] = { precision: precision(all), recall: recall(all, () => true).value, spikes: recall(all, bigSpike, 2).value, delay: medianDelay(all) };
  const cells = [name];
  for (const kind of KINDS) {
    const sizes = [...new Set(all.anomalies.filter((anomaly) => anomaly.kind === kind).map((anomaly) => anomaly.size))].sort((a, b) => a - b);
    cells.push(sizes.map((size) => `${kind === 'cache_collapse' ? '' : `${size}x:`}${format(recall(all, (anomaly) => anomaly.kind === kind && anomaly.size === size).value)}`).join(' '));
  }
  kindRows.push(cells);
}
console.log('\nRecall by kind and size, all seeds (any delay)');
console.log(table(['detector', ...KINDS], kindRows));
console.log('\nAll seeds');
console.log(
  table(
    ['detector', 'precision', 'recall', 'recall >=5x spikes <=2h', 'median delay h'],
    Object.entries(summary).map(([name, value]) => [name, format(value.precision), format(value.recall), format(value.spikes), format(value.delay, 1)]),
  ),
);
const ours = summary['costgate'];
const global = summary['static, global $'];
const perSeries = summary['static, per series'];
console.log(
  `\nanomaly: costgate precision ${format(ours?.precision ?? Number.NaN)} recall ${format(ours?.recall ?? Number.NaN)} ` +
    `>=5x-spike recall<=2h ${format(ours?.spikes ?? Number.NaN)}; static global $ precision ${format(global?.precision ?? Number.NaN)} ` +
    `recall ${format(global?.recall ?? Number.NaN)}; static per-series precision ${format(perSeries?.precision ?? Number.NaN)} recall ${format(perSeries?.recall ?? Number.NaN)} ` +
    `(${SEEDS.length} seeds, ${((performance.now() - started) / 1000).toFixed(1)} s)`,
);

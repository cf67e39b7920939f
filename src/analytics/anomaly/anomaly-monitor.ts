import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { HourlyPoint, LedgerAnalytics, SeriesDimension } from '../../ledger/analytics.ts';
import { AlertGate, severity, type AlertGateState } from './alert-gate.ts';
import { DEFAULT_DETECTOR_OPTIONS, detectAnomalies, HOUR_MS, type DetectorOptions, type Finding } from './detector.ts';

/** An alert as sent to the webhook, the log and the dashboard. */
export interface AnomalyAlert {
  dimension: SeriesDimension;
  key: string | null;
  /** Start of the hour, ISO 8601 UTC. */
  hour: string;
  kind: Finding['kind'];
  metric: Finding['metric'];
  expected: number;
  observed: number;
  /** observed / expected (for a cache-hit collapse: 1 + 10 x the drop). */
  severity: number;
  score: number;
  cause: string;
  causeFactor: Finding['cause']['factor'];
}

export interface AnomalyMonitorOptions {
  ledger: Pick<LedgerAnalytics, 'hourlySeries'>;
  dimensions: readonly SeriesDimension[];
  /** History the baseline is fitted on. Default 28 days. */
  historyDays?: number;
  /** Series judged per dimension, the costliest first (bounds the work on wide ledgers). Default 200. */
  maxSeriesPerDimension?: number;
  detector?: DetectorOptions;
  cooldownMs: number;
  /** JSON file for the alert gate and the last hour judged; absent = memory only. */
  statePath?: string;
  /** Receives the alerts that passed the gate (webhook, log); errors are reported, not thrown. */
  notify: (alerts: AnomalyAlert[]) => Promise<void>;
  now?: () => number;
}

interface MonitorState {
  /** Start of the last hour judged. */
  lastHour?: number;
  gate: AlertGateState;
  recent: AnomalyAlert[];
}

const RECENT_LIMIT = 200;

export interface CheckResult {
  alerts: AnomalyAlert[];
  /** Hours judged in this check: [from, to). */
  from: number;
  to: number;
  seriesChecked: number;
  /** Hours of history the longest series had. */
  historyHours: number;
}

function toAlert(finding: Finding): AnomalyAlert {
  return {
    dimension: finding.series.dimension,
    key: finding.series.key,
    hour: new Date(finding.hour).toISOString(),
    kind: finding.kind,
    metric: finding.metric,
    expected: finding.expected,
    observed: finding.observed,
    severity: severity(finding),
    score: finding.score,
    cause: finding.cause.summary,
    causeFactor: finding.cause.factor,
  };
}

function loadState(path: string | undefined): MonitorState {
  if (!path) return { gate: {}, recent: [] };
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<MonitorState>;
    return { gate: parsed.gate ?? {}, recent: parsed.recent ?? [], ...(parsed.lastHour !== undefined ? { lastHour: parsed.lastHour } : {}) };
  } catch {
    return { gate: {}, recent: [] };
  }
}

function saveState(path: string | undefined, state: MonitorState): void {
  if (!path) return;
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(state));
  renameSync(temporary, path);
}

/**
 * Judges complete hours not judged yet, per series of each dimension, and sends what passes the
 * alert gate. Reads the ledger once per dimension per check (an hourly aggregate in SQL), so it
 * is cheap enough to run every few minutes beside a busy gateway; nothing happens on the hot path.
 */
export class AnomalyMonitor {
  private readonly options: AnomalyMonitorOptions;
  private state: MonitorState;
  private running: Promise<CheckResult> | undefined;

  constructor(options: AnomalyMonitorOptions) {
    this.options = options;
    this.state = loadState(options.statePath);
  }

  recent(): AnomalyAlert[] {
    return [...this.state.recent];
  }

  /** One check; concurrent calls share the one running. `since` judges from that hour instead of the last one judged. */
  check(since?: number): Promise<CheckResult> {
    this.running ??= this.run(since).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(since: number | undefined): Promise<CheckResult> {
    const now = (this.options.now ?? Date.now)();
    const to = Math.floor(now / HOUR_MS) * HOUR_MS;
    const from = since !== undefined ? Math.floor(since / HOUR_MS) * HOUR_MS : this.state.lastHour !== undefined ? this.state.lastHour + HOUR_MS : to - HOUR_MS;
    const result: CheckResult = { alerts: [], from, to, seriesChecked: 0, historyHours: 0 };
    if (from >= to) return result;
    const historyFrom = from - (this.options.historyDays ?? 28) * 24 * HOUR_MS;
    const gate = new AlertGate({ cooldownMs: this.options.cooldownMs }, this.state.gate);
    const findings: Finding[] = [];
    for (const dimension of this.options.dimensions) {
      const points = await this.options.ledger.hourlySeries({ dimension, from: historyFrom, to });
      const bySeries = new Map<string | null, HourlyPoint[]>();
      for (const point of points) {
        const list = bySeries.get(point.key);
        if (list) list.push(point);
        else bySeries.set(point.key, [point]);
      }
      const costliest = [...bySeries.entries()]
        .map(([key, list]) => ({ key, list, cost: list.reduce((sum, point) => sum + point.cost, 0n) }))
        .sort((a, b) => (b.cost > a.cost ? 1 : b.cost < a.cost ? -1 : 0))
        .slice(0, this.options.maxSeriesPerDimension ?? 200);
      for (const { key, list } of costliest) {
        result.seriesChecked += 1;
        const first = list[0]?.hour ?? to;
        result.historyHours = Math.max(result.historyHours, Math.round((to - first) / HOUR_MS));
        findings.push(...detectAnomalies({ dimension, key }, list, { from, to }, this.options.detector ?? DEFAULT_DETECTOR_OPTIONS));
      }
    }
    findings.sort((a, b) => a.hour - b.hour || b.score - a.score);
    result.alerts = findings.filter((finding) => gate.admit(finding)).map(toAlert);
    this.state = {
      lastHour: to - HOUR_MS,
      gate: gate.snapshot(now),
      recent: [...result.alerts.toReversed(), ...this.state.recent].slice(0, RECENT_LIMIT),
    };
    saveState(this.options.statePath, this.state);
    if (result.alerts.length > 0) await this.options.notify(result.alerts);
    return result;
  }
}

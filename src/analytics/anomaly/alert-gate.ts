import type { Finding } from './detector.ts';

/**
 * Deduplication and cooldown: one alert per series while an incident lasts. A series that alerted
 * stays quiet for `cooldownMs`, unless it gets `escalation` times worse than what was reported
 * (a 3x spike turning into a 30x one is news). The state is small (one entry per alerting series)
 * and serializable, so the gateway and `costgate alerts check` keep it across runs.
 */
export interface AlertGateOptions {
  cooldownMs: number;
  /** Re-alert within the cooldown when severity grows by this factor. Default 2. */
  escalation?: number;
}

export interface AlertGateEntry {
  /** Hour of the last alert sent for this series. */
  hour: number;
  severity: number;
}

export type AlertGateState = Record<string, AlertGateEntry>;

export function seriesKey(finding: Pick<Finding, 'series'>): string {
  return `${finding.series.dimension}:${finding.series.key ?? ''}`;
}

/** How far from normal, as one number comparable across kinds: observed/expected, or the hit-rate drop. */
export function severity(finding: Finding): number {
  if (finding.kind === 'cache_hit_collapse') return 1 + Math.max(0, finding.expected - finding.observed) * 10;
  return finding.expected > 0 ? finding.observed / finding.expected : finding.score;
}

export class AlertGate {
  private readonly state: AlertGateState;
  private readonly cooldownMs: number;
  private readonly escalation: number;

  constructor(options: AlertGateOptions, state: AlertGateState = {}) {
    this.cooldownMs = options.cooldownMs;
    this.escalation = options.escalation ?? 2;
    this.state = { ...state };
  }

  /** True when this finding should be sent; records it if so. Findings must come in hour order per series. */
  admit(finding: Finding): boolean {
    const key = seriesKey(finding);
    const last = this.state[key];
    const level = severity(finding);
    if (last) {
      if (finding.hour <= last.hour && level < last.severity * this.escalation) return false;
      const cooling = finding.hour - last.hour < this.cooldownMs;
      if (cooling && level < last.severity * this.escalation) return false;
    }
    this.state[key] = { hour: finding.hour, severity: level };
    return true;
  }

  /** The state to persist, without entries whose cooldown ended long ago. */
  snapshot(now: number): AlertGateState {
    const keep: AlertGateState = {};
    for (const [key, entry] of Object.entries(this.state)) if (now - entry.hour < Math.max(this.cooldownMs, 0) + 7 * 86_400_000) keep[key] = entry;
    return keep;
  }
}

import { formatUsd } from '../../core/money.ts';
import { lostPerDay, type PatternKind } from '../../pipeline/prompt-cache/prefix-audit.ts';
import type { PlannerState } from '../../pipeline/prompt-cache/planner-state-file.ts';

/** `costgate audit prefixes`: features whose stable prefix changes call after call, worst first. */

export interface PrefixAuditRow {
  feature: string;
  provider: string;
  model: string;
  /** Share of compared calls whose stable section differed only by a small value. */
  unstableShare: number;
  comparisons: number;
  /** The most frequent pattern at the divergence point. */
  pattern: PatternKind;
  example: string;
  /** Other patterns seen, with counts. */
  otherPatterns: Partial<Record<PatternKind, number>>;
  /** Stable-section tokens per unstable call that could have been cached. */
  cacheableTokensPerCall: number;
  lostTokensPerCall: number;
  /** Picodollars lost per day (the last day, scaled up when less has been observed). */
  lostPerDay: bigint;
}

/** Features are listed when at least this share of their calls had an unstable prefix. */
const MIN_UNSTABLE_SHARE = 0.05;

export function prefixAuditRows(state: PlannerState, now: number): PrefixAuditRow[] {
  const rows: PrefixAuditRow[] = [];
  for (const feature of state.audit.features) {
    if (feature.comparisons === 0 || feature.unstable / feature.comparisons < MIN_UNSTABLE_SHARE) continue;
    const patterns = Object.entries(feature.patterns) as Array<[PatternKind, { count: number; example: string }]>;
    patterns.sort((a, b) => b[1].count - a[1].count);
    const [top, ...others] = patterns;
    if (!top) continue;
    rows.push({
      feature: feature.feature,
      provider: feature.provider,
      model: feature.model,
      unstableShare: feature.unstable / feature.comparisons,
      comparisons: feature.comparisons,
      pattern: top[0],
      example: top[1].example,
      otherPatterns: Object.fromEntries(others.map(([kind, finding]) => [kind, finding.count])),
      cacheableTokensPerCall: Math.round(feature.cacheableTokens / Math.max(1, feature.unstable)),
      lostTokensPerCall: Math.round(feature.lostTokens / Math.max(1, feature.unstable)),
      lostPerDay: lostPerDay(feature, now),
    });
  }
  return rows.sort((a, b) => (b.lostPerDay > a.lostPerDay ? 1 : b.lostPerDay < a.lostPerDay ? -1 : b.unstableShare - a.unstableShare));
}

export function formatPrefixAudit(rows: readonly PrefixAuditRow[], format: 'table' | 'json'): string {
  if (format === 'json') {
    return `${JSON.stringify(rows.map((row) => ({ ...row, lostPerDay: undefined, lost_usd_per_day: Number(formatUsd(row.lostPerDay)) })), null, 2)}\n`;
  }
  if (rows.length === 0) return 'No feature with an unstable prompt prefix.\n';
  const lines = [
    ['feature', 'provider/model', 'unstable', 'pattern', 'cacheable tok/call', 'lost tok/call', 'lost $/day'],
    ...rows.map((row) => [
      row.feature,
      `${row.provider}/${row.model}`,
      `${(row.unstableShare * 100).toFixed(0)}% of ${row.comparisons}`,
      row.pattern + (Object.keys(row.otherPatterns).length > 0 ? ` (+${Object.keys(row.otherPatterns).join(', ')})` : ''),
      String(row.cacheableTokensPerCall),
      String(row.lostTokensPerCall),
      Number(formatUsd(row.lostPerDay)).toFixed(4),
    ]),
  ];
  const widths = lines[0]?.map((_, column) => Math.max(...lines.map((line) => (line[column] ?? '').length))) ?? [];
  const table = lines.map((line) => line.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd());
  const examples = rows.map((row) => `  ${row.feature}: ${row.example}`);
  return `${table.join('\n')}\n\nAt the divergence point (redacted):\n${examples.join('\n')}\n`;
}

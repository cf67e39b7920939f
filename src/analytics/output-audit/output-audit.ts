import { formatUsd, type Picodollars } from '../../core/money.ts';
import type { ProviderId } from '../../core/provider-id.ts';
import type { OutputStatisticsRow } from '../../ledger/output-statistics.ts';
import type { Pricer } from '../../pricing/pricer.ts';
import { modelOutputLimit } from '../../providers/model-output-limits.ts';

/** Output above this share of input is flagged: most features answer in far fewer tokens than they read. */
export const OUTPUT_SHARE_FLAG = 0.15;

export interface OutputAuditRow {
  feature: string | null;
  provider: string;
  model: string | null;
  requests: number;
  /** Output tokens / input tokens (null without input). */
  outputShare: number | null;
  visible: OutputStatisticsRow['visible'];
  reasoning: OutputStatisticsRow['reasoning'];
  maxTokens: { p50: number; max: number } | null;
  maxTokensUnset: number;
  /** The model's output limit when known. */
  modelLimit: number | undefined;
  truncationRate: number;
  /** Share of calls that were runaway loops stopped by a cap (part of truncationRate, and wanted). */
  runawayRate: number;
  learnedCap: number;
  /** Share of calls a learned cap would have cut. */
  wouldTruncate: number;
  /** Output price of the answer tokens beyond the learned cap; undefined when the model is unpriced. */
  capSaving: Picodollars | undefined;
  /** Output price of all reasoning tokens: the most an effort clamp (down to none) could save. */
  effortSaving: Picodollars | undefined;
  policySaving: Picodollars;
  guardRaises: number;
  guardLowered: number;
  flags: string[];
}

function outputCost(pricer: Pricer, provider: string, model: string | null, tokens: number): Picodollars | undefined {
  if (!model) return undefined;
  if (tokens === 0) return 0n;
  return pricer.cost({ provider: provider as ProviderId, model, usage: { input: { total: 0, noCache: 0 }, output: { total: tokens } }, at: new Date() })?.cost;
}

export function outputAuditRows(rows: readonly OutputStatisticsRow[], pricer: Pricer): OutputAuditRow[] {
  return rows.map((row) => {
    const outputShare = row.inputTokens > 0 ? row.outputTokens / row.inputTokens : null;
    const modelLimit = modelOutputLimit(row.model ?? undefined);
    const flags: string[] = [];
    if (outputShare !== null && outputShare > OUTPUT_SHARE_FLAG) flags.push(`output ${(outputShare * 100).toFixed(0)}% of input`);
    // With no cap, OpenAI and Bedrock allow the model's maximum; a cap at (or past) the maximum is no cap either.
    if (row.maxTokensUnset > 0 && row.provider !== 'anthropic') flags.push(`${row.maxTokensUnset} calls without max_tokens (model maximum)`);
    if (row.maxTokensRequested && modelLimit !== undefined && row.maxTokensRequested.max >= modelLimit) flags.push('max_tokens at the model maximum');
    // Runaway loops stopped by a cap are the cap working; only answers cut short count as truncation.
    if ((row.truncated - row.runaways) / Math.max(1, row.requests) > 0.01) flags.push('truncating over 1% of answers');
    if (row.runaways > 0) flags.push(`${row.runaways} runaway loops stopped by a cap`);
    if (row.reasoning && row.reasoning.p50 > row.visible.p50 * 4 && row.reasoning.p50 > 256) flags.push('reasoning dwarfs the answer');
    return {
      feature: row.feature,
      provider: row.provider,
      model: row.model,
      requests: row.requests,
      outputShare,
      visible: row.visible,
      reasoning: row.reasoning,
      maxTokens: row.maxTokensRequested,
      maxTokensUnset: row.maxTokensUnset,
      modelLimit,
      truncationRate: row.truncated / Math.max(1, row.requests),
      runawayRate: row.runaways / Math.max(1, row.requests),
      learnedCap: row.learnedCap,
      wouldTruncate: row.callsAboveLearnedCap / Math.max(1, row.requests),
      capSaving: outputCost(pricer, row.provider, row.model, row.tokensAboveLearnedCap),
      effortSaving: outputCost(pricer, row.provider, row.model, row.reasoningTokens),
      policySaving: row.outputPolicySaving,
      guardRaises: row.guardRaises,
      guardLowered: row.guardLowered,
      flags,
    };
  });
}

function percent(value: number | null): string {
  return value === null ? '-' : `${(value * 100).toFixed(1)}%`;
}

function usd(value: Picodollars | undefined): string {
  if (value === undefined) return 'unpriced';
  const text = formatUsd(value);
  const [whole, fraction = ''] = text.split('.');
  return `$${whole}.${fraction.padEnd(2, '0').slice(0, 4)}`;
}

function triple(value: { p50: number; p95: number; p99: number } | null): string {
  return value === null ? '-' : `${value.p50}/${value.p95}/${value.p99}`;
}

export function formatOutputAudit(rows: readonly OutputAuditRow[], format: 'table' | 'json'): string {
  if (format === 'json') {
    return `${JSON.stringify(rows, (_key, value: unknown) => (typeof value === 'bigint' ? formatUsd(value) : value), 2)}\n`;
  }
  if (rows.length === 0) return 'no calls with output in range\n';
  const header = ['feature', 'model', 'calls', 'out/in', 'answer p50/p95/p99', 'reasoning p50/p95/p99', 'max_tokens p50/max', 'truncated', 'of which loops', 'learned cap', 'cap would cut', 'cap saves', 'effort clamp saves ≤', 'policy saved'];
  const lines = rows.map((row) => [
    row.feature ?? '(not attributed)',
    row.model ?? '-',
    String(row.requests),
    percent(row.outputShare),
    triple(row.visible),
    triple(row.reasoning),
    row.maxTokens ? `${row.maxTokens.p50}/${row.maxTokens.max}${row.maxTokensUnset > 0 ? ` (+${row.maxTokensUnset} unset)` : ''}` : 'unset',
    percent(row.truncationRate),
    percent(row.runawayRate),
    String(row.learnedCap),
    percent(row.wouldTruncate),
    usd(row.capSaving),
    usd(row.effortSaving),
    usd(row.policySaving),
  ]);
  const widths = header.map((name, index) => Math.max(name.length, ...lines.map((line) => (line[index] ?? '').length)));
  const render = (cells: string[]) => cells.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join('  ').trimEnd();
  const out = [render(header), render(widths.map((width) => '-'.repeat(width))), ...lines.map(render)];
  const flagged = rows.filter((row) => row.flags.length > 0 || row.guardRaises > 0 || row.guardLowered > 0);
  if (flagged.length > 0) {
    out.push('', 'flags:');
    for (const row of flagged) {
      const flags = [
        ...row.flags,
        ...(row.guardRaises > 0 ? [`truncation guard raised the cap ${row.guardRaises}x`] : []),
        ...(row.guardLowered > 0 ? [`and brought it back down ${row.guardLowered}x`] : []),
      ];
      out.push(`  ${row.feature ?? '(not attributed)'} / ${row.model ?? '-'}: ${flags.join('; ')}`);
    }
  }
  out.push(
    '',
    'answer = output minus reasoning, of answers that ended by themselves (not stopped by a cap). "learned cap" = what outputPolicy maxTokens: learned would set (the percentile',
    'times the room the feature\'s own tail needs to cut the target share of answers, at least the headroom; floor); "cap would cut" = answers',
    'beyond it; "cap saves" prices the answer tokens beyond it, loops included; "effort clamp saves ≤" prices all reasoning tokens (a clamp to none).',
  );
  return `${out.join('\n')}\n`;
}

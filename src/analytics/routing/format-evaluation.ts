import type { PairEvaluation, PairMethod } from './evaluate-router.ts';
import { PAIR_METHODS } from './evaluate-router.ts';
import type { MultiModelEvaluation } from './multi-model.ts';
import type { RouterMetrics } from './routing-metrics.ts';

const LABELS: Record<PairMethod, string> = {
  router: 'router',
  random: 'random (mean of seeds)',
  longest_prompt: 'longest prompts to strong',
  oracle: 'oracle',
  weak: 'weak only',
  strong: 'strong only',
};

function percent(value: number | null, digits = 1): string {
  return value === null ? '—' : `${(value * 100).toFixed(digits)}%`;
}

function usd(value: number): string {
  return value >= 0.01 ? `$${value.toFixed(4)}` : `$${value.toPrecision(3)}`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

/** The keyed JSON object of `router eval --format json` (fractions; null where not reached). */
export function pairJson(evaluation: PairEvaluation): Record<PairMethod, RouterMetrics> {
  return evaluation.methods;
}

export function formatPairTable(evaluation: PairEvaluation, notes: readonly string[] = []): string {
  const rows = PAIR_METHODS.map((method) => {
    const metrics = evaluation.methods[method];
    return [LABELS[method], metrics.apgr === null ? '—' : metrics.apgr.toFixed(3), percent(metrics.cpt50), percent(metrics.cpt80), percent(metrics.saving_at_95)];
  });
  return [
    `${evaluation.examples} prompts; weak ${evaluation.weak}: quality ${percent(evaluation.weakQuality, 2)}, ${usd(evaluation.weakCost)}/call; strong ${evaluation.strong}: quality ${percent(evaluation.strongQuality, 2)}, ${usd(evaluation.strongCost)}/call`,
    ...notes,
    '',
    table(['method', 'APGR', 'CPT(50%)', 'CPT(80%)', 'saving @95% of strong quality'], rows),
    '',
    evaluation.routerAt92
      ? `router at 92% of the strong model's quality: ${percent(evaluation.routerAt92.strongShare)} strong calls, ${usd(evaluation.routerAt92.cost)}/call, ${(evaluation.strongCost / evaluation.routerAt92.cost).toFixed(2)}x cheaper than strong only`
      : "router never reaches 92% of the strong model's quality",
    '',
    'APGR, CPT as RouteLLM defines them (11 quantile thresholds, trapezoid area, linear interpolation); CPT = share of calls sent to the strong model.',
    'saving = 1 - cost / strong-only cost at 95% of the strong model quality ("—": not reached).',
    '',
  ].join('\n');
}

export function formatMultiModel(evaluation: MultiModelEvaluation, notes: readonly string[] = []): string {
  const models = Object.entries(evaluation.models).sort((a, b) => a[1].cost - b[1].cost);
  const singleRows = models.map(([model, single]) => [model, usd(single.cost), percent(single.quality, 2)]);
  const curveRows = (points: MultiModelEvaluation['router']) =>
    points.map((point) => [
      usd(point.cost),
      percent(point.quality, 2),
      Object.entries(point.mix ?? {})
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([model, share]) => `${model} ${percent(share, 0)}`)
        .join(', '),
    ]);
  const versusRows = evaluation.versus
    .sort((a, b) => a.cost - b.cost)
    .map((row) => [row.model, usd(row.cost), percent(row.quality, 2), row.routerQualityAtCost === null ? '—' : percent(row.routerQualityAtCost, 2), row.routerCostAtQuality === null ? '—' : usd(row.routerCostAtQuality), percent(row.saving)]);
  return [
    `${evaluation.examples} prompts, ${models.length} models`,
    ...notes,
    '',
    'single models',
    table(['model', 'cost/call', 'quality'], singleRows),
    '',
    'router vs each single model',
    table(['model', 'cost/call', 'quality', 'router quality at that cost', 'router cost for that quality', 'saving'], versusRows),
    '',
    'router cost/quality curve (frontier of the λ sweep)',
    table(['cost/call', 'quality', 'main models'], curveRows(evaluation.router)),
    '',
    'oracle curve (true outcomes; an upper bound)',
    table(['cost/call', 'quality', 'main models'], curveRows(evaluation.oracle)),
    '',
  ].join('\n');
}

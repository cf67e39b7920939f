import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatUsdForPeople } from '../analytics/reports/format-report.ts';
import { loadConfig } from '../config/load-config.ts';
import { toJson } from '../ledger/analytics-codec.ts';
import type { SavingsBy } from '../ledger/analytics.ts';
import { GROUP_BY_VALUES, type GroupBy, type ReportFilter } from '../ledger/ledger.ts';
import { CliError, parseInteger, parseTime } from './cli-error.ts';
import { openAnalyticsReader } from './analytics-reader.ts';

export const SAVINGS_HELP = `costgate savings [--by feature|customer|model|provider] [--from T] [--to T] [--feature F] [--customer C]
                 [--format table|json] [--ledger PATH] [--config FILE]
  What each lever saved (baseline minus cost, from every call's lever record), measured apart from estimated.`;

export const EXPORT_HELP = `costgate export --format parquet|csv [--out FILE] [--from T] [--to T] [--ledger PATH] [--config FILE]
  Writes ledger rows for warehouses (BigQuery, Snowflake, ClickHouse load Parquet directly): money as
  exact picodollar integers and as DECIMAL(32,12) USD. Default file: costgate-ledger.<format>.`;

export const REPORT_ANALYTICS_HELP = `costgate report pareto|growth|percentiles|ratios [--by G] [--top N] [--from T] [--to T] [--period 7d]
                [--feature F] [--customer C] [--provider P] [--model M] [--format table|json] [--ledger PATH]
  pareto: top groups (default customers) with their cumulative share of spend
  growth: this period (default the last 7 days) against the one before, per group (default feature), by dollar growth
  percentiles: cost per request p50/p90/p95/p99/max (overall, or per --by group)
  ratios: input/output tokens and cache hit rate per group (default feature)`;

const common = {
  by: { type: 'string' },
  top: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  period: { type: 'string' },
  feature: { type: 'string' },
  customer: { type: 'string' },
  provider: { type: 'string' },
  model: { type: 'string' },
  format: { type: 'string', default: 'table' },
  ledger: { type: 'string' },
  config: { type: 'string' },
  out: { type: 'string' },
} as const;

function parse(argv: string[]) {
  const { values } = parseArgs({ args: argv, options: common, strict: true });
  if (values.format !== 'table' && values.format !== 'json' && values.format !== 'parquet' && values.format !== 'csv') {
    throw new CliError(`--format must be table or json, got "${values.format}"`);
  }
  const filter: ReportFilter = {};
  for (const key of ['feature', 'customer', 'provider', 'model'] as const) if (values[key]) filter[key] = values[key];
  const from = parseTime(values.from, '--from');
  const to = parseTime(values.to, '--to');
  const top = parseInteger(values.top, '--top', 1);
  const path = values.ledger ?? loadConfig(values.config).config.ledger.path;
  return { values, filter, range: { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) }, top, path };
}

function groupBy(value: string | undefined): GroupBy | undefined {
  if (value === undefined) return undefined;
  if (!GROUP_BY_VALUES.includes(value as GroupBy)) throw new CliError(`--by must be one of ${GROUP_BY_VALUES.join(', ')}, got "${value}"`);
  return value as GroupBy;
}

function render(header: string[], rows: string[][]): string {
  if (rows.length === 0) return 'no usage recorded for this query\n';
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((cells) => cells[column]?.length ?? 0)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  ').trimEnd();
  return `${[line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n')}\n`;
}

const name = (key: string | null) => key ?? '(not attributed)';
const percent = (value: number) => `${(value * 100).toFixed(1)}%`;

function periodMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+)(h|d|w)$/.exec(value);
  if (!match) throw new CliError(`--period must look like 24h, 7d or 2w, got "${value}"`);
  return Number(match[1]) * { h: 3_600_000, d: 86_400_000, w: 604_800_000 }[match[2] as 'h' | 'd' | 'w'];
}

export async function reportAnalyticsCommand(kind: string, argv: string[]): Promise<void> {
  const { values, filter, range, top, path } = parse(argv);
  const by = groupBy(values.by);
  const reader = await openAnalyticsReader(path);
  try {
    let output: string;
    if (kind === 'pareto') {
      const result = await reader.pareto({ ...range, filter, top: top ?? 10, ...(by ? { by } : {}) });
      output =
        values.format === 'json'
          ? `${toJson(result)}\n`
          : render(
              [by ?? 'customer', 'requests', 'cost', 'share', 'cumulative'],
              [
                ...result.rows.map((row) => [name(row.key), String(row.requests), formatUsdForPeople(row.cost), percent(row.share), percent(row.cumulativeShare)]),
                ...(result.rest.groups > 0 ? [[`(${result.rest.groups} others)`, String(result.rest.requests), formatUsdForPeople(result.rest.cost), '', '100.0%']] : []),
              ],
            );
    } else if (kind === 'growth') {
      const period = periodMs(values.period);
      const rows = await reader.growth({ ...filter, ...(by ? { by } : {}), ...(top ? { top } : {}), ...(range.to !== undefined ? { to: range.to } : {}), ...(period ? { periodMs: period } : {}) });
      output =
        values.format === 'json'
          ? `${toJson(rows)}\n`
          : render(
              [by ?? 'feature', 'this period', 'previous', 'change', 'change %'],
              rows.map((row) => [name(row.key), formatUsdForPeople(row.currentCost), formatUsdForPeople(row.previousCost), formatUsdForPeople(row.change), row.changeRatio === null ? 'new' : percent(row.changeRatio)]),
            );
    } else if (kind === 'percentiles') {
      const rows = await reader.costPercentiles({ ...range, filter, ...(by ? { by } : {}), ...(top ? { top } : {}) });
      output =
        values.format === 'json'
          ? `${toJson(rows)}\n`
          : render(
              [by ?? 'all', 'priced requests', 'mean', 'p50', 'p90', 'p95', 'p99', 'max'],
              rows.map((row) => [by ? name(row.key) : 'all', String(row.requests), ...[row.mean, row.p50, row.p90, row.p95, row.p99, row.max].map(formatUsdForPeople)]),
            );
    } else {
      const rows = await reader.tokenRatios({ ...range, filter, ...(by ? { by } : {}), ...(top ? { top } : {}) });
      output =
        values.format === 'json'
          ? `${toJson(rows)}\n`
          : render(
              [by ?? 'feature', 'requests', 'input:output', 'mean input', 'mean output', 'cache hit rate', 'cost'],
              rows.map((row) => [
                name(row.key),
                String(row.requests),
                row.inputOutputRatio === null ? '-' : `${row.inputOutputRatio.toFixed(1)}:1`,
                String(Math.round(row.meanInputTokens)),
                String(Math.round(row.meanOutputTokens)),
                percent(row.cacheHitRate),
                formatUsdForPeople(row.cost),
              ]),
            );
    }
    process.stdout.write(output);
  } finally {
    await reader.close();
  }
}

const SAVINGS_BY: readonly SavingsBy[] = ['feature', 'customer', 'model', 'provider'];

export async function savingsCommand(argv: string[]): Promise<void> {
  const { values, filter, range, path } = parse(argv);
  const by = values.by as SavingsBy | undefined;
  if (by !== undefined && !SAVINGS_BY.includes(by)) throw new CliError(`--by must be one of ${SAVINGS_BY.join(', ')}, got "${values.by}"`);
  const reader = await openAnalyticsReader(path);
  try {
    const rows = await reader.savings({ ...range, filter, ...(by ? { by } : {}) });
    if (values.format === 'json') {
      process.stdout.write(`${toJson(rows)}\n`);
      return;
    }
    if (rows.length === 0) {
      process.stdout.write('no lever has recorded a saving in this range (levers write their savings on each call once enabled)\n');
      return;
    }
    const header = ['lever', ...(by ? [by] : []), 'requests', 'measured', 'estimated', 'total'];
    const lines = rows.map((row) => [row.lever, ...(by ? [name(row.key)] : []), String(row.requests), formatUsdForPeople(row.measured), formatUsdForPeople(row.estimated), formatUsdForPeople(row.measured + row.estimated)]);
    const measured = rows.reduce((sum, row) => sum + row.measured, 0n);
    const estimated = rows.reduce((sum, row) => sum + row.estimated, 0n);
    lines.push(['total', ...(by ? [''] : []), '', formatUsdForPeople(measured), formatUsdForPeople(estimated), formatUsdForPeople(measured + estimated)]);
    process.stdout.write(render(header, lines));
    process.stdout.write('\nmeasured: the counterfactual comes from the call itself (e.g. cached tokens at the uncached price); estimated: from a model of what would have happened.\n');
  } finally {
    await reader.close();
  }
}

export async function exportCommand(argv: string[]): Promise<void> {
  const { values, range, path } = parse(argv);
  const format = values.format;
  if (format !== 'parquet' && format !== 'csv') throw new CliError(`--format must be parquet or csv, got "${format}"`);
  const out = resolve(values.out ?? `costgate-ledger.${format}`);
  const reader = await openAnalyticsReader(path);
  try {
    const rows = await reader.exportTo(format, out, range);
    console.log(`wrote ${rows.toLocaleString('en-US')} rows to ${out}`);
  } finally {
    await reader.close();
  }
}

import { formatUsd, PICODOLLARS_PER_USD, type Picodollars } from '../../core/money.ts';
import type { GroupBy, ReportRow } from '../../ledger/ledger.ts';

export type ReportFormat = 'table' | 'csv' | 'json';

export const REPORT_FORMATS: readonly ReportFormat[] = ['table', 'csv', 'json'];

/** One report row as JSON and CSV show it: snake_case, USD, the group value under the group's name. */
export interface ReportRecord {
  [group: string]: string | number | null;
  requests: number;
  input_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  output_tokens: number;
  /** Sum over priced requests only; unpriced_requests says how many it leaves out. */
  cost_usd: number;
  baseline_cost_usd: number;
  savings_usd: number;
  unpriced_requests: number;
  /** Prompt caching: what writes cost over uncached input, what reads saved, and the difference. */
  cache_write_premium_usd: number;
  cache_read_savings_usd: number;
  cache_net_usd: number;
}

const NOT_ATTRIBUTED = '(not attributed)';

/** Renders report rows; every format ends with a newline. */
export function formatReport(rows: readonly ReportRow[], by: GroupBy, format: ReportFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(rows.map((row) => toRecord(row, by)), null, 2)}\n`;
    case 'csv':
      return formatCsv(rows, by);
    case 'table':
      return formatTable(rows, by);
    default:
      throw new RangeError(`unknown report format "${String(format)}"`);
  }
}

/**
 * The JSON number nearest the exact amount: the exact decimal string, parsed once. (Adding
 * whole and fractional parts as floats, as picodollarsToUsd does, can land one step off:
 * 1.2345678900000001 for $1.23456789.)
 */
export function picodollarsToJsonUsd(amount: Picodollars): number {
  return Number(formatUsd(amount));
}

export function toRecord(row: ReportRow, by: GroupBy): ReportRecord {
  return {
    [by]: row.key,
    requests: row.requests,
    input_tokens: row.inputTokens,
    cache_read_tokens: row.cacheReadTokens,
    cache_write_tokens: row.cacheWriteTokens,
    output_tokens: row.outputTokens,
    cost_usd: picodollarsToJsonUsd(row.cost),
    baseline_cost_usd: picodollarsToJsonUsd(row.baselineCost),
    savings_usd: picodollarsToJsonUsd(row.baselineCost - row.cost),
    unpriced_requests: row.unpricedRequests,
    cache_write_premium_usd: picodollarsToJsonUsd(row.cacheWritePremium),
    cache_read_savings_usd: picodollarsToJsonUsd(row.cacheReadSavings),
    cache_net_usd: picodollarsToJsonUsd(row.cacheReadSavings - row.cacheWritePremium),
  };
}

const CSV_COLUMNS = [
  'requests',
  'input_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'output_tokens',
  'cost_usd',
  'baseline_cost_usd',
  'savings_usd',
  'unpriced_requests',
  'cache_write_premium_usd',
  'cache_read_savings_usd',
  'cache_net_usd',
] as const;

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** CSV keeps full precision: USD as exact decimal strings, never through a float. */
function formatCsv(rows: readonly ReportRow[], by: GroupBy): string {
  const lines = [[by, ...CSV_COLUMNS].join(',')];
  for (const row of rows) {
    const fields = [
      row.key ?? '',
      String(row.requests),
      String(row.inputTokens),
      String(row.cacheReadTokens),
      String(row.cacheWriteTokens),
      String(row.outputTokens),
      formatUsd(row.cost),
      formatUsd(row.baselineCost),
      formatUsd(row.baselineCost - row.cost),
      String(row.unpricedRequests),
      formatUsd(row.cacheWritePremium),
      formatUsd(row.cacheReadSavings),
      formatUsd(row.cacheReadSavings - row.cacheWritePremium),
    ];
    lines.push(fields.map(csvField).join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** Rounds half away from zero to `decimals` places, in integers. */
function roundPicodollars(amount: Picodollars, decimals: number): { whole: bigint; fraction: string; negative: boolean } {
  const negative = amount < 0n;
  const absolute = negative ? -amount : amount;
  const unit = 10n ** BigInt(12 - decimals);
  const rounded = (absolute + unit / 2n) / unit;
  const scale = 10n ** BigInt(decimals);
  return { whole: rounded / scale, fraction: (rounded % scale).toString().padStart(decimals, '0'), negative: negative && rounded > 0n };
}

/**
 * For people: cents from a dollar up, more places below so small amounts do not show as $0.00.
 * "$1,234.57", "$0.0123", "$0.000027", "<$0.000001".
 */
export function formatUsdForPeople(amount: Picodollars): string {
  if (amount === 0n) return '$0.00';
  const absolute = amount < 0n ? -amount : amount;
  const decimals = absolute >= PICODOLLARS_PER_USD ? 2 : absolute >= PICODOLLARS_PER_USD / 100n ? 4 : 6;
  const { whole, fraction, negative } = roundPicodollars(amount, decimals);
  if (whole === 0n && /^0+$/.test(fraction)) return amount < 0n ? '>-$0.000001' : '<$0.000001';
  return `${negative ? '-' : ''}$${groupThousands(whole.toString())}.${fraction}`;
}

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function formatTable(rows: readonly ReportRow[], by: GroupBy): string {
  if (rows.length === 0) return 'no usage recorded for this query\n';
  const header = [by, 'requests', 'input', 'cache read', 'cache write', 'output', 'cost', 'baseline', 'savings', 'cache net', 'unpriced'];
  const body = rows.map((row) => {
    // A group with no priced request has an unknown cost, which must not read as $0.00.
    const priced = row.requests > row.unpricedRequests;
    return [
      row.key ?? NOT_ATTRIBUTED,
      groupThousands(String(row.requests)),
      groupThousands(String(row.inputTokens)),
      groupThousands(String(row.cacheReadTokens)),
      groupThousands(String(row.cacheWriteTokens)),
      groupThousands(String(row.outputTokens)),
      priced ? formatUsdForPeople(row.cost) : 'unpriced',
      priced ? formatUsdForPeople(row.baselineCost) : '-',
      priced ? formatUsdForPeople(row.baselineCost - row.cost) : '-',
      // Read savings minus write premiums: negative means caching cost this group money.
      priced ? formatUsdForPeople(row.cacheReadSavings - row.cacheWritePremium) : '-',
      groupThousands(String(row.unpricedRequests)),
    ];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => cells[column]?.length ?? 0)));
  const render = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  const lines = [render(header), render(widths.map((width) => '-'.repeat(width))), ...body.map(render)];
  const unpriced = rows.reduce((sum, row) => sum + row.unpricedRequests, 0);
  if (unpriced > 0) {
    const requests = unpriced === 1 ? '1 unpriced request (no known price for its model) is' : `${unpriced} unpriced requests (no known price for their model) are`;
    lines.push('', `${requests} not in cost; see \`costgate prices --unpriced\`.`);
  }
  // A cache write premium that reads never repaid is pure loss: say so rather than bury it in a column.
  const losing = rows.filter((row) => row.cacheReadSavings < row.cacheWritePremium).map((row) => row.key ?? NOT_ATTRIBUTED);
  if (losing.length > 0) {
    lines.push('', `prompt caching cost more than it saved (negative cache net) for ${by} ${losing.join(', ')}.`);
  }
  return `${lines.join('\n')}\n`;
}

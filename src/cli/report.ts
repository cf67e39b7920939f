import { parseArgs } from 'node:util';
import { formatReport, type ReportFormat } from '../analytics/reports/format-report.ts';
import { loadConfig } from '../config/load-config.ts';
import { GROUP_BY_VALUES, type GroupBy, type ReportFilter } from '../ledger/ledger.ts';
import { reportAnalyticsCommand } from './analytics-commands.ts';
import { CliError, parseInteger, parseTime } from './cli-error.ts';
import { openLedgerReader } from './ledger-reader.ts';

export const REPORT_HELP = `costgate report [--by feature|customer|user|model|provider|day|hour|api_key] [--from T] [--to T] [--top N]
                [--feature F] [--customer C] [--provider P] [--model M]
                [--format table|json|csv] [--ledger PATH] [--config FILE]
  Cost and tokens per group. T is an ISO date/time or a duration back from now (24h, 7d).
  Unpriced calls (models without a known price) are counted apart, never as $0.
  --ledger takes a DuckDB file or a postgres:// URL (read directly, e.g. ?schema=costgate).`;

const FORMATS: readonly ReportFormat[] = ['table', 'json', 'csv'];

const ANALYTICS_REPORTS = ['pareto', 'growth', 'percentiles', 'ratios'];

export async function reportCommand(argv: string[]): Promise<void> {
  const [kind, ...rest] = argv;
  if (kind !== undefined && ANALYTICS_REPORTS.includes(kind)) return reportAnalyticsCommand(kind, rest);
  const { values } = parseArgs({
    args: argv,
    options: {
      by: { type: 'string', default: 'feature' },
      from: { type: 'string' },
      to: { type: 'string' },
      top: { type: 'string' },
      feature: { type: 'string' },
      customer: { type: 'string' },
      provider: { type: 'string' },
      model: { type: 'string' },
      format: { type: 'string', default: 'table' },
      ledger: { type: 'string' },
      config: { type: 'string' },
    },
    strict: true,
  });
  const by = values.by as GroupBy;
  if (!GROUP_BY_VALUES.includes(by)) throw new CliError(`--by must be one of ${GROUP_BY_VALUES.join(', ')}, got "${values.by}"`);
  const format = values.format as ReportFormat;
  if (!FORMATS.includes(format)) throw new CliError(`--format must be one of ${FORMATS.join(', ')}, got "${values.format}"`);
  const from = parseTime(values.from, '--from');
  const to = parseTime(values.to, '--to');
  const top = parseInteger(values.top, '--top', 1);
  const filter: ReportFilter = {};
  if (values.feature) filter.feature = values.feature;
  if (values.customer) filter.customer = values.customer;
  if (values.provider) filter.provider = values.provider;
  if (values.model) filter.model = values.model;

  const path = values.ledger ?? loadConfig(values.config).config.ledger.path;
  const ledger = await openLedgerReader(path);
  try {
    const rows = await ledger.report({
      by,
      filter,
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      ...(top !== undefined ? { top } : {}),
    });
    process.stdout.write(formatReport(rows, by, format));
  } finally {
    await ledger.close();
  }
}

import { parseArgs } from 'node:util';
import { formatOutputAudit, outputAuditRows } from '../analytics/output-audit/output-audit.ts';
import { loadConfig } from '../config/load-config.ts';
import type { ReportFilter } from '../ledger/ledger.ts';
import { createPricer } from '../pricing/pricer.ts';
import { CliError, parseInteger, parseTime } from './cli-error.ts';
import { openLedgerReader } from './ledger-reader.ts';

export const AUDIT_OUTPUT_HELP = `costgate audit output [--from T] [--to T] [--feature F] [--provider P] [--model M]
                      [--percentile 0.99] [--headroom 1.25] [--floor 256] [--target-truncation 0.0025]
                      [--format table|json] [--ledger PATH] [--config FILE]
  Per feature and model, from the ledger: output as a share of input (flagged above 15%), answer and
  reasoning tokens p50/p95/p99 against the max_tokens clients send (flagged when unset or at the
  model maximum), truncation rate and the runaway loops among the truncated calls, the learned cap
  outputPolicy would set (placed to cut the target share of answers; default a quarter of the
  configured truncation threshold) and the dollars it and an effort clamp would save, and what the
  output policy has saved so far.`;

function parseNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new CliError(`${flag} must be a number, got "${value}"`);
  return parsed;
}

export async function auditOutputCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      feature: { type: 'string' },
      provider: { type: 'string' },
      model: { type: 'string' },
      percentile: { type: 'string' },
      headroom: { type: 'string' },
      floor: { type: 'string' },
      'target-truncation': { type: 'string' },
      format: { type: 'string', default: 'table' },
      ledger: { type: 'string' },
      config: { type: 'string' },
    },
    strict: true,
  });
  const format = values.format;
  if (format !== 'table' && format !== 'json') throw new CliError(`--format must be table or json, got "${format}"`);
  const percentile = parseNumber(values.percentile, '--percentile');
  if (percentile !== undefined && !(percentile > 0 && percentile < 1)) throw new CliError(`--percentile must be between 0 and 1, got "${values.percentile}"`);
  const headroom = parseNumber(values.headroom, '--headroom');
  if (headroom !== undefined && headroom < 1) throw new CliError(`--headroom must be at least 1, got "${values.headroom}"`);
  const floor = parseInteger(values.floor, '--floor', 0);
  const target = parseNumber(values['target-truncation'], '--target-truncation');
  if (target !== undefined && !(target > 0 && target < 1)) throw new CliError(`--target-truncation must be between 0 and 1, got "${values['target-truncation']}"`);
  const from = parseTime(values.from, '--from');
  const to = parseTime(values.to, '--to');
  const filter: ReportFilter = {};
  if (values.feature) filter.feature = values.feature;
  if (values.provider) filter.provider = values.provider;
  if (values.model) filter.model = values.model;

  const { config } = loadConfig(values.config);
  const ledger = await openLedgerReader(values.ledger ?? config.ledger.path);
  try {
    const rows = await ledger.outputStatistics({
      filter,
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      ...(percentile !== undefined ? { percentile } : {}),
      ...(headroom !== undefined ? { headroom } : {}),
      ...(floor !== undefined ? { floor } : {}),
      // The output policy places learned caps to cut a quarter of its truncation threshold.
      targetTruncation: target ?? config.outputPolicy.truncationThreshold / 4,
    });
    process.stdout.write(formatOutputAudit(outputAuditRows(rows, createPricer({ overrides: config.prices.overrides })), format));
  } finally {
    await ledger.close();
  }
}

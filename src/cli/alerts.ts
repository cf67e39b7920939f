import { join } from 'node:path';
import { ledgerLocalDir } from '../ledger/open-ledger.ts';
import { parseArgs } from 'node:util';
import { AnomalyMonitor } from '../analytics/anomaly/anomaly-monitor.ts';
import { DEFAULT_DETECTOR_OPTIONS } from '../analytics/anomaly/detector.ts';
import { createNotifier, describeAlert } from '../analytics/anomaly/notify.ts';
import { loadConfig } from '../config/load-config.ts';
import type { SeriesDimension } from '../ledger/analytics.ts';
import { CliError, parseTime } from './cli-error.ts';
import { openAnalyticsReader } from './analytics-reader.ts';

export const ALERTS_HELP = `costgate alerts check [--since T] [--webhook URL] [--dimension feature,customer,...] [--state FILE]
                      [--format table|json] [--fail-on-alert] [--ledger PATH] [--config FILE]
  Judges the hours completed since the last check (or since T) for cost anomalies: spikes, sustained
  increases, per-request cost regressions, cache-hit collapses, per feature, customer, model and overall,
  against a seasonal baseline. For cron; alerts go to stdout and, with --webhook (or
  analytics.anomaly.webhookUrl), to a Slack-compatible webhook. Deduplicated across runs via --state
  (default: anomaly-state-cli.json beside the ledger).`;

const DIMENSIONS: readonly SeriesDimension[] = ['total', 'feature', 'customer', 'model', 'provider', 'api_key'];

export async function alertsCommand(argv: string[]): Promise<void> {
  const [subcommand, ...rest] = argv;
  if (subcommand !== 'check') throw new CliError(`usage: costgate alerts check [options] (got "${subcommand ?? ''}")`);
  const { values } = parseArgs({
    args: rest,
    options: {
      since: { type: 'string' },
      webhook: { type: 'string' },
      dimension: { type: 'string' },
      state: { type: 'string' },
      format: { type: 'string', default: 'table' },
      'fail-on-alert': { type: 'boolean' },
      ledger: { type: 'string' },
      config: { type: 'string' },
    },
    strict: true,
  });
  if (values.format !== 'table' && values.format !== 'json') throw new CliError(`--format must be table or json, got "${values.format}"`);
  const { config } = loadConfig(values.config);
  const settings = config.analytics.anomaly;
  const dimensions = values.dimension ? (values.dimension.split(',').map((item) => item.trim()) as SeriesDimension[]) : settings.dimensions;
  for (const dimension of dimensions) if (!DIMENSIONS.includes(dimension)) throw new CliError(`--dimension takes ${DIMENSIONS.join(', ')}, got "${dimension}"`);
  const since = parseTime(values.since, '--since');
  const path = values.ledger ?? config.ledger.path;
  const reader = await openAnalyticsReader(path);
  const log = (line: string) => console.error(line);
  try {
    const monitor = new AnomalyMonitor({
      ledger: reader,
      dimensions,
      historyDays: settings.historyDays,
      cooldownMs: settings.cooldownMinutes * 60_000,
      detector: { ...DEFAULT_DETECTOR_OPTIONS, threshold: settings.threshold, minCostUsd: settings.minCostUsd, minRequests: settings.minRequests },
      statePath: values.state ?? join(ledgerLocalDir(path, config.ledger.localDir), 'anomaly-state-cli.json'),
      notify: createNotifier({ webhookUrl: values.webhook ?? settings.webhookUrl, log: () => {} }),
    });
    const result = await monitor.check(since);
    if (values.format === 'json') {
      console.log(JSON.stringify(result, null, 2));
    } else {
      const hours = Math.max(0, Math.round((result.to - result.from) / 3_600_000));
      console.log(`checked ${result.seriesChecked} series over ${hours} completed hour${hours === 1 ? '' : 's'} (${new Date(result.from).toISOString().slice(0, 13)}:00Z to ${new Date(result.to).toISOString().slice(0, 13)}:00Z)`);
      if (result.historyHours < 48) log(`note: the ledger holds ${result.historyHours} hours of history; the baseline needs 48 hours (best with three weeks) before it judges anything`);
      for (const alert of result.alerts) console.log(`ALERT ${describeAlert(alert)}`);
      if (result.alerts.length === 0) console.log('no anomalies');
    }
    if (values['fail-on-alert'] && result.alerts.length > 0) process.exitCode = 1;
  } finally {
    await reader.close();
  }
}

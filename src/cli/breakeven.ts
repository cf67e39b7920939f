import { parseArgs } from 'node:util';
import { modelBreakEven } from '../analytics/break-even/break-even-report.ts';
import { DEFAULT_MODEL_UNIT_TERMS } from '../analytics/break-even/break-even.ts';
import { loadConfig } from '../config/load-config.ts';
import { openLedger } from '../ledger/open-ledger.ts';
import { toJson } from '../ledger/analytics-codec.ts';
import { createPricer } from '../pricing/pricer.ts';
import { CliError, parseInteger, parseTime } from './cli-error.ts';
import { openAnalyticsReader } from './analytics-reader.ts';

export const BREAKEVEN_HELP = `costgate breakeven --model M [--from 30d] [--to T] [--max-units 10]
                   [--mu-price-1m 63] [--mu-price-6m 34.99] [--mu-input-tpm 300000] [--mu-output-tpm 30000]
                   [--input-price USD/MTok --output-price USD/MTok]
                   [--tokens-per-hour N --output-share 0.2 --peak-to-mean 3]  (a synthetic profile instead of the ledger)
                   [--format table|json] [--ledger PATH] [--config FILE]
  Bedrock Provisioned Throughput against on demand for one model: monthly cost of 1..N model units
  (1- and 6-month terms, overflow on demand), the break-even sustained tokens per hour, a recommendation.
  No current Claude MU price or throughput is public: pass your AWS quote. The defaults are the legacy
  Claude v2 us-east-1 MU prices and an illustrative throughput.`;

function positive(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new CliError(`${flag} must be a positive number, got "${value}"`);
  return parsed;
}

const usd = (value: number) => `$${Math.round(value).toLocaleString('en-US')}`;

export async function breakevenCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      'max-units': { type: 'string' },
      'mu-price-1m': { type: 'string' },
      'mu-price-6m': { type: 'string' },
      'mu-input-tpm': { type: 'string' },
      'mu-output-tpm': { type: 'string' },
      'input-price': { type: 'string' },
      'output-price': { type: 'string' },
      'tokens-per-hour': { type: 'string' },
      'output-share': { type: 'string' },
      'peak-to-mean': { type: 'string' },
      format: { type: 'string', default: 'table' },
      ledger: { type: 'string' },
      config: { type: 'string' },
    },
    strict: true,
  });
  if (!values.model) throw new CliError('--model is required (the Bedrock model id, e.g. anthropic.claude-sonnet-4-5-20250929-v1:0)');
  if (values.format !== 'table' && values.format !== 'json') throw new CliError(`--format must be table or json, got "${values.format}"`);
  if ((values['input-price'] === undefined) !== (values['output-price'] === undefined)) throw new CliError('pass both --input-price and --output-price, or neither');
  const loaded = loadConfig(values.config);
  const pricer = createPricer({ overrides: loaded.config.prices.overrides });
  const synthetic = values['tokens-per-hour'] !== undefined;
  const from = parseTime(values.from ?? (synthetic ? undefined : '30d'), '--from');
  const to = parseTime(values.to, '--to');
  const request = {
    model: values.model,
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    maxUnits: parseInteger(values['max-units'], '--max-units', 1) ?? 10,
    terms: {
      oneMonthPerHour: positive(values['mu-price-1m'], '--mu-price-1m', DEFAULT_MODEL_UNIT_TERMS.oneMonthPerHour),
      sixMonthPerHour: positive(values['mu-price-6m'], '--mu-price-6m', DEFAULT_MODEL_UNIT_TERMS.sixMonthPerHour),
      inputTokensPerMinute: positive(values['mu-input-tpm'], '--mu-input-tpm', DEFAULT_MODEL_UNIT_TERMS.inputTokensPerMinute),
      outputTokensPerMinute: positive(values['mu-output-tpm'], '--mu-output-tpm', DEFAULT_MODEL_UNIT_TERMS.outputTokensPerMinute),
    },
    ...(values['input-price'] !== undefined
      ? { prices: { inputPerMTok: positive(values['input-price'], '--input-price', 0), outputPerMTok: positive(values['output-price'], '--output-price', 0) } }
      : {}),
    ...(synthetic
      ? {
          synthetic: {
            tokensPerHour: positive(values['tokens-per-hour'], '--tokens-per-hour', 1),
            outputShare: Math.min(1, Math.max(0, Number(values['output-share'] ?? 0.2))),
            peakToMean: positive(values['peak-to-mean'], '--peak-to-mean', 3),
          },
        }
      : {}),
  };
  const path = values.ledger ?? loaded.config.ledger.path;
  // A synthetic profile needs no ledger; the ledger's profile is read from the file (or the gateway).
  const reader = synthetic ? undefined : await openAnalyticsReader(path).catch(async () => openLedger(path, { mustExist: true }));
  let report;
  try {
    report = await modelBreakEven(reader ?? { modelProfile: () => Promise.reject(new Error('no ledger')) }, pricer, request);
  } catch (error) {
    if ((error as Error).name === 'BreakEvenInputError') throw new CliError((error as Error).message);
    throw error;
  } finally {
    await reader?.close();
  }
  if (values.format === 'json') {
    const { profile: _profile, ...rest } = report;
    process.stdout.write(`${toJson(rest)}\n`);
    return;
  }
  const lines = [
    `${report.model}: ${report.source === 'ledger' ? `${report.hours} hours of ledger traffic` : 'synthetic profile'}; on demand $${report.prices.inputPerMTok}/MTok in, $${report.prices.outputPerMTok}/MTok out`,
    `MU: $${report.terms.oneMonthPerHour}/h (1-month), $${report.terms.sixMonthPerHour}/h (6-month); ${report.terms.inputTokensPerMinute.toLocaleString('en-US')} input or ${report.terms.outputTokensPerMinute.toLocaleString('en-US')} output tokens/min per MU`,
    `load: mean ${report.meanLoad.toFixed(3)} MU, peak ${report.peakLoad.toFixed(3)} MU; one MU carries ${Math.round(report.unitCapacityTokensPerHour).toLocaleString('en-US')} tokens/h at this mix`,
    `break-even: ${Math.round(report.breakEvenTokensPerHour['1-month']).toLocaleString('en-US')} tokens/h sustained (1-month), ${Math.round(report.breakEvenTokensPerHour['6-month']).toLocaleString('en-US')} (6-month)`,
    '',
    `${'option'.padEnd(18)}${'monthly'.padStart(14)}${'MUs'.padStart(12)}${'overflow'.padStart(12)}${'busy'.padStart(7)}${'vs on demand'.padStart(15)}`,
    `${'on demand'.padEnd(18)}${usd(report.onDemandMonthly).padStart(14)}`,
    ...report.options.map(
      (option) =>
        `${`${option.units} MU ${option.term}`.padEnd(18)}${usd(option.monthlyCost).padStart(14)}${usd(option.provisionedCost).padStart(12)}${usd(option.overflowCost).padStart(12)}${`${Math.round(option.utilization * 100)}%`.padStart(7)}${`${option.versusOnDemand >= 0 ? '+' : '-'}${usd(Math.abs(option.versusOnDemand))}`.padStart(15)}`,
    ),
    '',
    report.recommendation,
  ];
  console.log(lines.join('\n'));
}

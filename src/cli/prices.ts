import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.ts';
import { PROVIDER_IDS, type ProviderId } from '../core/provider-id.ts';
import { createPricer } from '../pricing/pricer.ts';
import { CliError } from './cli-error.ts';
import { openLedgerReader } from './ledger-reader.ts';

export const PRICES_HELP = `costgate prices MODEL [--provider openai|anthropic|bedrock] [--config FILE]
costgate prices --unpriced [--ledger PATH]
  Shows the price costgate uses for MODEL (per million tokens), its source and date;
  --unpriced lists models seen in the ledger without a known price.`;

function guessProviders(model: string): ProviderId[] {
  if (/^(anthropic\.|[a-z]{2,6}\.anthropic\.|amazon\.|meta\.|mistral\.|cohere\.)/.test(model) || model.includes(':0')) return ['bedrock'];
  if (model.startsWith('claude')) return ['anthropic'];
  return ['openai', 'anthropic', 'bedrock'];
}

export async function pricesCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { provider: { type: 'string' }, unpriced: { type: 'boolean' }, ledger: { type: 'string' }, config: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const loaded = loadConfig(values.config);
  if (values.unpriced) {
    const ledger = await openLedgerReader(values.ledger ?? loaded.config.ledger.path);
    try {
      const models = await ledger.unpricedModels();
      if (models.length === 0) console.log('every model in the ledger has a price');
      for (const model of models) console.log(`${model.provider}\t${model.model || '(unknown model)'}\t${model.requests} requests unpriced`);
    } finally {
      await ledger.close();
    }
    return;
  }
  const model = positionals[0];
  if (!model) throw new CliError('usage: costgate prices MODEL [--provider P]   or   costgate prices --unpriced');
  const provider = values.provider as ProviderId | undefined;
  if (provider !== undefined && !PROVIDER_IDS.includes(provider)) throw new CliError(`--provider must be one of ${PROVIDER_IDS.join(', ')}`);
  const pricer = createPricer({ overrides: loaded.config.prices.overrides });
  for (const candidate of provider ? [provider] : guessProviders(model)) {
    const description = pricer.describe(candidate, model);
    if (description) {
      console.log(JSON.stringify(description, null, 2));
      return;
    }
  }
  console.log(`no price known for "${model}"${provider ? ` on ${provider}` : ''}: calls to it are recorded as unpriced (cost null), never $0.`);
  console.log('add one under prices.overrides in costgate.yaml.');
  process.exitCode = 1;
}

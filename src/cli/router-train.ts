import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { examplesFromOutcomes } from '../analytics/routing/ledger-training-data.ts';
import { serializeRoutingExample, type RoutingExample } from '../analytics/routing/routing-dataset.ts';
import { loadConfig } from '../config/load-config.ts';
import { trainRouterModel } from '../pipeline/router/model/router-model.ts';
import { CliError, parseTime } from './cli-error.ts';
import { openLedgerReader } from './ledger-reader.ts';
import { embedExamples, readData } from './router-data.ts';

export const ROUTER_TRAIN_HELP = `costgate router train --data FILE --weak M1 --strong M2 [--models M3,M4] [--out router.json] [--embedder glove:DIR|onnx:MODEL]
costgate router train --from-ledger [--ledger PATH] [--config F] [--feature F] [--from 30d] --weak M1 --strong M2 [--data FILE] [--export FILE]
  Trains the routing classifier: hashed word and character n-grams (TF-IDF) plus prompt statistics,
  optionally a prompt embedding, then one calibrated logistic regression per model (regularisation
  by inner cross-validation, Platt scaling on held-out logits). --from-ledger learns from feedback
  and shadow outcomes stored with the ledger (combined with --data when both are given).`;

export async function routerTrainCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      weak: { type: 'string' },
      strong: { type: 'string' },
      models: { type: 'string' },
      out: { type: 'string', default: 'router.json' },
      embedder: { type: 'string' },
      'from-ledger': { type: 'boolean', default: false },
      ledger: { type: 'string' },
      config: { type: 'string' },
      feature: { type: 'string' },
      from: { type: 'string' },
      export: { type: 'string' },
    },
    strict: true,
  });
  if (!values.weak || !values.strong) throw new CliError('router train needs --weak MODEL and --strong MODEL');
  const models = [...new Set([values.weak, ...(values.models ? values.models.split(',').map((model) => model.trim()).filter(Boolean) : []), values.strong])];
  let examples: RoutingExample[] = [];
  if (values.data || !values['from-ledger']) examples = readData(values.data);
  if (values['from-ledger']) {
    const path = values.ledger ?? loadConfig(values.config).config.ledger.path;
    const ledger = await openLedgerReader(path);
    try {
      const from = parseTime(values.from, '--from');
      const outcomes = await ledger.outcomes({ withPrompt: true, ...(values.feature ? { feature: values.feature } : {}), ...(from !== undefined ? { from } : {}) });
      const built = examplesFromOutcomes(outcomes);
      console.log(`ledger: ${outcomes.length} outcomes with prompts -> ${built.examples.length} examples${built.skipped ? ` (${built.skipped} skipped)` : ''}`);
      examples = [...examples, ...built.examples];
      if (values.export) {
        writeFileSync(values.export, built.examples.map(serializeRoutingExample).join('\n') + '\n');
        console.log(`wrote the ledger examples to ${values.export}`);
      }
    } finally {
      await ledger.close();
    }
  }
  for (const model of models) {
    const count = examples.filter((example) => typeof example.outcomes[model] === 'number').length;
    if (count < 10) throw new CliError(`model "${model}" has outcomes on ${count} prompts; need at least 10 to train`);
  }
  const embeddingModel = values.embedder ? await embedExamples(examples, values.embedder) : undefined;
  const started = Date.now();
  let file;
  try {
    file = trainRouterModel(examples, models, embeddingModel ? { embeddingModel } : {});
  } catch (error) {
    throw new CliError(`router train: ${(error as Error).message}`);
  }
  writeFileSync(values.out, JSON.stringify(file));
  console.log(`trained on ${examples.length} prompts in ${((Date.now() - started) / 1000).toFixed(1)} s -> ${values.out}`);
  for (const [model, predictor] of Object.entries(file.models)) {
    console.log(
      `  ${model}: ${predictor.examples} outcomes, answers well ${(predictor.baseRate * 100).toFixed(1)}%, held-out AUC ${predictor.heldOutAuc === null ? '—' : predictor.heldOutAuc.toFixed(3)}, calibrated log loss ${predictor.heldOutLogLoss.toFixed(4)}, lambda ${predictor.lambda}`,
    );
  }
}

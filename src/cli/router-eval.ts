import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { estimatedCosts, resolvePrices } from '../analytics/routing/estimate-costs.ts';
import { crossValidatedPredictions, evaluatePair, predictAll, type Predictions } from '../analytics/routing/evaluate-router.ts';
import { formatMultiModel, formatPairTable, pairJson } from '../analytics/routing/format-evaluation.ts';
import { evaluateMultiModel } from '../analytics/routing/multi-model.ts';
import { modelsOnEveryExample, type RoutingExample } from '../analytics/routing/routing-dataset.ts';
import { createPricer } from '../pricing/pricer.ts';
import { CliError, parseInteger } from './cli-error.ts';
import { embedExamples, readData, readRouter, requireModels } from './router-data.ts';

export const ROUTER_EVAL_HELP = `costgate router eval --data FILE --weak M1 --strong M2 [--router router.json | --cv 5] [--format table|json]
                     [--price MODEL=IN/OUT]... [--output-tokens N] [--seeds 10] [--embedder glove:DIR] [--json-out FILE]
costgate router eval --data FILE --models A,B,C|all [--router router.json | --cv 5] [--format table|json]
  Replays the outcomes offline. Two models: APGR, CPT(50%), CPT(80%) and the saving at 95% of the
  strong model's quality for the router and for random, longest-prompt, oracle, weak-only and
  strong-only baselines. More models: the router's cost/quality curve against each model and the
  oracle. Costs come from the data, else from prices (--price, or the price table) on token counts.
  --json-out FILE also writes the JSON object (the --format json output) while printing the table.`;

export async function routerEvalCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      weak: { type: 'string' },
      strong: { type: 'string' },
      models: { type: 'string' },
      router: { type: 'string' },
      cv: { type: 'string' },
      format: { type: 'string', default: 'table' },
      price: { type: 'string', multiple: true, default: [] },
      'output-tokens': { type: 'string', default: '100' },
      seeds: { type: 'string', default: '10' },
      embedder: { type: 'string' },
      'json-out': { type: 'string' },
    },
    strict: true,
  });
  if (values.format !== 'table' && values.format !== 'json') throw new CliError(`--format must be table or json, got "${values.format}"`);
  if ((values.router === undefined) === (values.cv === undefined)) throw new CliError('router eval needs exactly one of --router FILE or --cv K');
  const folds = parseInteger(values.cv, '--cv', 2);
  const outputTokens = parseInteger(values['output-tokens'], '--output-tokens', 0) ?? 100;
  const seeds = parseInteger(values.seeds, '--seeds', 1) ?? 10;
  const all = readData(values.data);

  let models: string[];
  const pairMode = values.weak !== undefined || values.strong !== undefined;
  if (pairMode) {
    if (!values.weak || !values.strong) throw new CliError('two-model eval needs both --weak and --strong');
    models = [values.weak, values.strong];
  } else if (values.models) {
    models = values.models === 'all' ? modelsOnEveryExample(all) : values.models.split(',').map((model) => model.trim()).filter(Boolean);
    if (models.length < 2) throw new CliError('--models needs at least two models');
  } else {
    throw new CliError('router eval needs --weak and --strong, or --models A,B,C|all');
  }
  const examples = requireModels(all, models);
  const notes: string[] = [];
  if (examples.length < all.length) notes.push(`${all.length - examples.length} examples left out: no outcome for every model compared`);

  const haveCosts = examples.every((example) => models.every((model) => typeof example.costs?.[model] === 'number'));
  let costOf: (example: RoutingExample, model: string) => number;
  if (haveCosts) {
    costOf = (example, model) => example.costs?.[model] as number;
    notes.push('costs: per call, from the data');
  } else {
    let prices;
    try {
      prices = resolvePrices(models, values.price, createPricer({ overrides: [] }));
    } catch (error) {
      throw new CliError((error as Error).message);
    }
    costOf = estimatedCosts(examples, prices, outputTokens);
    notes.push(`costs: estimated from prompt tokens + ${outputTokens} output tokens at ${models.map((model) => `${model} $${prices[model]?.inputPerMTok}/$${prices[model]?.outputPerMTok} per MTok (${prices[model]?.source})`).join('; ')}`);
    // The router's own cost estimates (multi-model mode) need costs on the training examples too.
    for (const example of examples) example.costs = Object.fromEntries(models.map((model) => [model, costOf(example, model)]));
  }
  if (values.embedder) notes.push(`features: text + embedding ${await embedExamples(examples, values.embedder)}`);

  let predictions: Predictions;
  let estimate: (index: number, model: string) => number;
  if (values.router) {
    const router = readRouter(values.router);
    for (const model of models) if (!router.models.includes(model)) throw new CliError(`${values.router} has no predictor for "${model}" (it has ${router.models.join(', ')})`);
    predictions = predictAll(router, examples);
    estimate = (index, model) => router.estimatedCost(model, (examples[index] as RoutingExample).prompt) ?? costOf(examples[index] as RoutingExample, model);
    notes.push(`router: ${values.router} (trained ${router.file.trainedAt} on ${router.file.examples} prompts)`);
  } else {
    const k = folds as number;
    const started = Date.now();
    if (values.format === 'table') process.stderr.write(`training ${k} folds`);
    const crossValidated = crossValidatedPredictions(examples, models, k, {}, () => {
      if (values.format === 'table') process.stderr.write('.');
    });
    predictions = crossValidated.predictions;
    if (values.format === 'table') process.stderr.write(` ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    // Out-of-fold cost estimates, like the predictions: each fold's model knows only its training costs.
    estimate = (index, model) => crossValidated.costEstimates[index]?.[model] ?? costOf(examples[index] as RoutingExample, model);
    notes.push(`router: ${k}-fold cross-validation on this file (every prompt scored by a model that never saw it)`);
  }

  if (pairMode) {
    const evaluation = evaluatePair({ examples, weak: models[0] as string, strong: models[1] as string, predictions, costOf, randomSeeds: seeds });
    const json = `${JSON.stringify(pairJson(evaluation), null, 2)}\n`;
    if (values['json-out']) writeFileSync(values['json-out'], json);
    process.stdout.write(values.format === 'json' ? json : formatPairTable(evaluation, notes));
    return;
  }
  const evaluation = evaluateMultiModel({ examples, models, predictions, estimatedCost: estimate, realCost: costOf });
  const json = `${JSON.stringify(evaluation, null, 2)}\n`;
  if (values['json-out']) writeFileSync(values['json-out'], json);
  process.stdout.write(values.format === 'json' ? json : formatMultiModel(evaluation, notes));
}

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { RESPONSE_CACHE_POLICY_DEFAULTS } from '../config/response-cache-config.ts';
import { loadConfig } from '../config/load-config.ts';
import { UpstreamClient } from '../pipeline/forward/upstream-client.ts';
import { evaluateCache, type EvaluationReport, type LabeledPair } from '../pipeline/semantic-cache/cache-evaluation.ts';
import { createEmbedder, parseEmbedderSpec } from '../pipeline/semantic-cache/create-embedder.ts';
import { loadUsearch } from '../pipeline/semantic-cache/vector-index.ts';
import { createAdapters } from '../server/start-gateway.ts';
import { CliError, parseInteger } from './cli-error.ts';

export const CACHE_HELP = `costgate cache eval --pairs FILE --embedder glove:DIR|openai:MODEL|bedrock:MODEL|onnx:PATH [--format table|json]
    [--thresholds 0.8,0.9,...] [--bounds 0.01,0.02,...] [--shadow-rate 0.05] [--no-guard] [--protocol index|pairs]
    [--limit N] [--seed N] [--config FILE]
  Semantic-cache evaluation on labeled pairs, one JSON object per line: {"a": "...", "b": "...", "label": 0|1}
  (a JSON array, and text_a/text_b keys, are read too). Stores every a, asks every b once, and prints
  hit rate, wrong-hit rate (wrong hits / hits) and recall (right hits / duplicate pairs) for fixed
  thresholds and for the bounded-error mode at each bound. --protocol pairs compares each b with its
  own a only (pair classification) instead of searching every stored a. openai and bedrock embedders go through
  the providers configured for the gateway (costgate.yaml or the usual environment variables).`;

const DEFAULT_THRESHOLDS = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99];
const DEFAULT_BOUNDS = [0.01, 0.02, 0.05, 0.1, 0.2];

function parseList(value: string | undefined, flag: string, fallback: readonly number[], minimum: number, maximum: number): number[] {
  if (value === undefined) return [...fallback];
  const numbers = value.split(',').map((item) => Number(item.trim()));
  if (numbers.length === 0 || numbers.some((item) => !Number.isFinite(item) || item < minimum || item > maximum)) {
    throw new CliError(`${flag} must be comma-separated numbers between ${minimum} and ${maximum}, got "${value}"`);
  }
  return numbers;
}

function toPair(value: unknown, where: string): LabeledPair {
  const record = (value ?? {}) as Record<string, unknown>;
  const a = record.a ?? record.text_a;
  const b = record.b ?? record.text_b;
  const label = record.label;
  if (typeof a !== 'string' || typeof b !== 'string' || (label !== 0 && label !== 1)) {
    throw new CliError(`${where}: expected {"a": string, "b": string, "label": 0 or 1}`);
  }
  return { a, b, label };
}

export function readPairs(path: string): LabeledPair[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`);
  }
  if (text.trimStart().startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new CliError(`${path}: not valid JSON (${(error as Error).message})`);
    }
    return (parsed as unknown[]).map((item, index) => toPair(item, `${path} item ${index}`));
  }
  const pairs: LabeledPair[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new CliError(`${path} line ${index + 1}: not valid JSON`);
    }
    pairs.push(toPair(parsed, `${path} line ${index + 1}`));
  }
  return pairs;
}

function percent(value: number): string {
  return `${(value * 100).toFixed(2)}%`;
}

export function formatEvaluation(report: EvaluationReport, pairs: number): string {
  const lines = [`${pairs} pairs`, '', 'fixed threshold   hit rate   wrong-hit rate   recall'];
  for (const row of report.fixed) {
    lines.push(`${row.threshold.toFixed(2).padStart(15)}   ${percent(row.hit_rate).padStart(8)}   ${percent(row.wrong_hit_rate).padStart(14)}   ${percent(row.recall).padStart(6)}`);
  }
  lines.push('', 'error bound       hit rate   wrong-hit rate   recall   within bound');
  for (const row of report.bounded) {
    lines.push(
      `${percent(row.bound).padStart(11)}       ${percent(row.hit_rate).padStart(8)}   ${percent(row.wrong_hit_rate).padStart(14)}   ${percent(row.recall).padStart(6)}   ${row.wrong_hit_rate <= row.bound ? 'yes' : 'NO'}`,
    );
  }
  return lines.join('\n');
}

async function evalCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      pairs: { type: 'string' },
      embedder: { type: 'string' },
      format: { type: 'string' },
      thresholds: { type: 'string' },
      bounds: { type: 'string' },
      'shadow-rate': { type: 'string' },
      'no-guard': { type: 'boolean' },
      protocol: { type: 'string' },
      limit: { type: 'string' },
      seed: { type: 'string' },
      config: { type: 'string' },
    },
    strict: true,
  });
  if (!values.pairs) throw new CliError('--pairs FILE is required');
  if (!values.embedder) throw new CliError('--embedder is required: glove:DIR, openai:MODEL, bedrock:MODEL or onnx:PATH');
  const format = values.format ?? 'table';
  if (format !== 'table' && format !== 'json') throw new CliError(`--format must be table or json, got "${format}"`);
  const embedderConfig = parseEmbedderSpec(values.embedder);
  if (!embedderConfig) throw new CliError(`--embedder must be glove:DIR, openai:MODEL, bedrock:MODEL or onnx:PATH, got "${values.embedder}"`);
  const shadowRate = values['shadow-rate'] === undefined ? RESPONSE_CACHE_POLICY_DEFAULTS.shadowRate : Number(values['shadow-rate']);
  if (!(shadowRate >= 0 && shadowRate <= 1)) throw new CliError(`--shadow-rate must be between 0 and 1, got "${values['shadow-rate']}"`);
  const protocol = values.protocol ?? 'index';
  if (protocol !== 'index' && protocol !== 'pairs') throw new CliError(`--protocol must be index or pairs, got "${protocol}"`);
  const limit = parseInteger(values.limit, '--limit', 1);
  const seed = parseInteger(values.seed, '--seed', 0) ?? 1;
  let pairs = readPairs(values.pairs);
  if (limit !== undefined) pairs = pairs.slice(0, limit);
  if (pairs.length === 0) throw new CliError(`${values.pairs} holds no pairs`);

  const loaded = loadConfig(values.config);
  const upstream = new UpstreamClient();
  let embedder;
  try {
    embedder = createEmbedder(embedderConfig, { adapters: createAdapters(loaded), upstream, timeoutMs: 60_000 });
  } catch (error) {
    throw new CliError(`cannot load the embedder: ${(error as Error).message}`);
  }
  try {
    const report = await evaluateCache(pairs, embedder, {
      thresholds: parseList(values.thresholds, '--thresholds', DEFAULT_THRESHOLDS, -1, 1),
      bounds: parseList(values.bounds, '--bounds', DEFAULT_BOUNDS, 0.0001, 0.5),
      shadowRate,
      confidence: loaded.config.responseCache.semantic.confidence,
      minSimilarity: RESPONSE_CACHE_POLICY_DEFAULTS.minSimilarity,
      guard: !values['no-guard'],
      seed,
      protocol,
      usearch: await loadUsearch(),
      onProgress: (line) => process.stderr.write(`${line}\n`),
    });
    console.log(format === 'json' ? JSON.stringify(report) : formatEvaluation(report, pairs.length));
  } finally {
    await upstream.close();
  }
}

export async function cacheCommand(argv: string[]): Promise<void> {
  const [subcommand, ...rest] = argv;
  if (subcommand === 'eval') return evalCommand(rest);
  throw new CliError(`unknown cache subcommand "${subcommand ?? ''}" (subcommands: eval)`);
}

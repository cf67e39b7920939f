import { readFileSync } from 'node:fs';
import { DatasetError, readRoutingDataset, type RoutingExample } from '../analytics/routing/routing-dataset.ts';
import { loadRouterModel, type RouterModel, type RouterModelFile } from '../pipeline/router/model/router-model.ts';
import { createEmbedder, parseEmbedderSpec } from '../pipeline/semantic-cache/create-embedder.ts';
import { CliError } from './cli-error.ts';

/** Shared by `router train` and `router eval`: reading data and router files, embedding prompts. */

export function readData(path: string | undefined): RoutingExample[] {
  if (!path) throw new CliError('--data FILE is required (JSONL: {"prompt", "outcomes": {model: score}, "costs": {model: usd}})');
  try {
    return readRoutingDataset(path);
  } catch (error) {
    if (error instanceof DatasetError) throw new CliError(error.message);
    throw error;
  }
}

export function readRouter(path: string): RouterModel {
  let parsed: RouterModelFile;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as RouterModelFile;
  } catch (error) {
    throw new CliError(`cannot read router file ${path}: ${(error as Error).message}`);
  }
  try {
    return loadRouterModel(parsed);
  } catch (error) {
    throw new CliError(`${path}: ${(error as Error).message}`);
  }
}

/** Keeps the examples that have an outcome for every model compared (a fair replay needs all). */
export function requireModels(examples: RoutingExample[], models: readonly string[]): RoutingExample[] {
  for (const model of models) {
    if (!examples.some((example) => typeof example.outcomes[model] === 'number')) {
      const known = Object.keys(examples[0]?.outcomes ?? {});
      throw new CliError(`no outcomes for model "${model}" in the data (models: ${known.join(', ')})`);
    }
  }
  const kept = examples.filter((example) => models.every((model) => typeof example.outcomes[model] === 'number'));
  if (kept.length < 20) throw new CliError(`only ${kept.length} examples have outcomes for all of ${models.join(', ')}; need at least 20`);
  return kept;
}

/**
 * Embeds every prompt with a local embedder (`glove:DIR`, `onnx:MODEL`) for the embedding variant of
 * the classifier; returns the embedder id recorded in the router file.
 */
export async function embedExamples(examples: RoutingExample[], spec: string): Promise<string> {
  const config = parseEmbedderSpec(spec);
  if (!config) throw new CliError(`--embedder must be glove:DIR or onnx:MODEL, got "${spec}"`);
  if (config.type === 'openai' || config.type === 'bedrock-titan') {
    throw new CliError('router training embeds prompts offline; use a local embedder (glove:DIR or onnx:MODEL)');
  }
  const embedder = createEmbedder(config, { adapters: undefined, upstream: undefined, timeoutMs: 30_000 });
  const batch = 256;
  let dimensions = 0;
  const pending: Array<{ example: RoutingExample; vector: Float32Array | undefined }> = [];
  for (let start = 0; start < examples.length; start += batch) {
    const slice = examples.slice(start, start + batch);
    const { vectors } = await embedder.embed(slice.map((example) => example.prompt));
    slice.forEach((example, index) => {
      const vector = vectors[index];
      if (vector) dimensions = vector.length;
      pending.push({ example, vector });
    });
  }
  if (dimensions === 0) throw new CliError(`the embedder ${embedder.id} produced no vectors for this data`);
  // Prompts with no embeddable words get the zero vector: the text features still describe them.
  for (const { example, vector } of pending) example.embedding = vector ?? new Float32Array(dimensions);
  return embedder.id;
}

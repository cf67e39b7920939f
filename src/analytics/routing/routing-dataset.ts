import { readFileSync } from 'node:fs';
import type { TrainingExample } from '../../pipeline/router/model/router-model.ts';

/**
 * The one data format the router commands read, JSONL:
 * {"prompt": "...", "outcomes": {"<model>": <score 0..1>}, "costs": {"<model>": <usd>}}
 * `costs` is optional. Lines that are blank are skipped; anything else malformed is an error
 * naming the line, since silently dropping rows would bias every metric computed on the rest.
 */
export interface RoutingExample extends TrainingExample {
  /** Optional grouping (benchmark name), carried through for per-group tables. */
  group?: string;
}

export class DatasetError extends Error {
  override name = 'DatasetError';
}

export function parseRoutingLine(line: string, lineNumber: number): RoutingExample {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw new DatasetError(`line ${lineNumber}: not JSON (${(error as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new DatasetError(`line ${lineNumber}: expected an object`);
  const record = parsed as Record<string, unknown>;
  if (typeof record.prompt !== 'string') throw new DatasetError(`line ${lineNumber}: "prompt" must be a string`);
  const outcomes = record.outcomes;
  if (!outcomes || typeof outcomes !== 'object' || Array.isArray(outcomes)) throw new DatasetError(`line ${lineNumber}: "outcomes" must be an object of model -> score`);
  const example: RoutingExample = { prompt: record.prompt, outcomes: {} };
  for (const [model, score] of Object.entries(outcomes)) {
    const value = typeof score === 'boolean' ? Number(score) : score;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
      throw new DatasetError(`line ${lineNumber}: outcome for "${model}" must be a number in 0..1, got ${JSON.stringify(score)}`);
    }
    example.outcomes[model] = value;
  }
  if (record.costs !== undefined) {
    if (!record.costs || typeof record.costs !== 'object' || Array.isArray(record.costs)) throw new DatasetError(`line ${lineNumber}: "costs" must be an object of model -> USD`);
    const costs: Record<string, number> = {};
    for (const [model, cost] of Object.entries(record.costs)) {
      if (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0) throw new DatasetError(`line ${lineNumber}: cost for "${model}" must be a non-negative number`);
      costs[model] = cost;
    }
    example.costs = costs;
  }
  if (typeof record.group === 'string') example.group = record.group;
  return example;
}

export function parseRoutingJsonl(text: string): RoutingExample[] {
  const examples: RoutingExample[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() !== '') examples.push(parseRoutingLine(line, index + 1));
  });
  return examples;
}

export function readRoutingDataset(path: string): RoutingExample[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new DatasetError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const examples = parseRoutingJsonl(text);
  if (examples.length === 0) throw new DatasetError(`${path} holds no examples`);
  return examples;
}

export function serializeRoutingExample(example: RoutingExample): string {
  const record: Record<string, unknown> = { prompt: example.prompt, outcomes: example.outcomes };
  if (example.costs) record.costs = example.costs;
  if (example.group !== undefined) record.group = example.group;
  return JSON.stringify(record);
}

/** Models that have an outcome on every example (the ones a replay can compare fairly). */
export function modelsOnEveryExample(examples: readonly RoutingExample[]): string[] {
  const first = examples[0];
  if (!first) return [];
  return Object.keys(first.outcomes).filter((model) => examples.every((example) => typeof example.outcomes[model] === 'number'));
}

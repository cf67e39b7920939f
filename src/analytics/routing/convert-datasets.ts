import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { csvRecords } from './csv.ts';
import type { RoutingExample } from './routing-dataset.ts';

/**
 * Converters from two public router-evaluation layouts into the JSONL routing format. Both read
 * the layout (which columns are models) from the files' headers, never from a fixed model list.
 */

function csvFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) return csvFiles(path);
      return entry.name.endsWith('.csv') ? [path] : [];
    })
    .sort();
}

function parseBoolean(value: string): number | undefined {
  const lower = value.trim().toLowerCase();
  if (lower === 'true' || lower === '1' || lower === '1.0') return 1;
  if (lower === 'false' || lower === '0' || lower === '0.0') return 0;
  const number = Number(lower);
  return lower !== '' && Number.isFinite(number) && number >= 0 && number <= 1 ? number : undefined;
}

/**
 * RouteLLM's per-benchmark response tables: `prompt` plus one boolean column per model. Prompts
 * listed as `eval_prompt` in a `contaminated_prompts.jsonl` beside the responses are dropped, as
 * RouteLLM's own evaluation does. The group is the file name (one subject per file).
 */
export function convertRouteLlmResponses(directory: string): { examples: RoutingExample[]; dropped: number } {
  const files = csvFiles(directory);
  if (files.length === 0) throw new Error(`no .csv files under ${directory}`);
  const examples: RoutingExample[] = [];
  let dropped = 0;
  const contaminationCache = new Map<string, Set<string>>();
  const contaminated = (file: string): Set<string> => {
    // The list sits in the benchmark folder, one level above responses/.
    for (const folder of [dirname(file), dirname(dirname(file))]) {
      const path = join(folder, 'contaminated_prompts.jsonl');
      const cached = contaminationCache.get(path);
      if (cached) return cached;
      try {
        if (!statSync(path).isFile()) continue;
      } catch {
        continue;
      }
      const prompts = new Set<string>();
      for (const line of readFileSync(path, 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        const record = JSON.parse(line) as { eval_prompt?: unknown };
        if (typeof record.eval_prompt === 'string') prompts.add(record.eval_prompt);
      }
      contaminationCache.set(path, prompts);
      return prompts;
    }
    return new Set();
  };
  for (const file of files) {
    const records = csvRecords(readFileSync(file, 'utf8'));
    const skip = contaminated(file);
    const group = basename(file, '.csv');
    for (const record of records) {
      const prompt = record.prompt;
      if (prompt === undefined) throw new Error(`${file}: no "prompt" column`);
      if (skip.has(prompt)) {
        dropped += 1;
        continue;
      }
      const outcomes: Record<string, number> = {};
      let complete = true;
      for (const [column, value] of Object.entries(record)) {
        if (column === 'prompt' || column === '') continue;
        const score = parseBoolean(value);
        if (score === undefined) complete = false;
        else outcomes[column] = score;
      }
      if (!complete) {
        dropped += 1;
        continue;
      }
      examples.push({ prompt, outcomes, group });
    }
  }
  return { examples, dropped };
}

/** Reads a Python list-of-strings literal (`['a', "b"]`); returns undefined if it is not one. */
export function parsePythonStringList(text: string): string[] | undefined {
  let index = 0;
  const skipSpace = () => {
    while (index < text.length && /\s/.test(text[index] as string)) index += 1;
  };
  skipSpace();
  if (text[index] !== '[') return undefined;
  index += 1;
  const items: string[] = [];
  for (;;) {
    skipSpace();
    if (text[index] === ']') {
      index += 1;
      break;
    }
    const quote = text[index];
    if (quote !== "'" && quote !== '"') return undefined;
    index += 1;
    let value = '';
    for (;;) {
      if (index >= text.length) return undefined;
      const char = text[index] as string;
      if (char === quote) {
        index += 1;
        break;
      }
      if (char === '\\') {
        const next = text[index + 1] ?? '';
        const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0', a: '\x07', b: '\b', f: '\f', v: '\v', '\n': '' };
        if (next in simple) {
          value += simple[next];
          index += 2;
        } else if (next === 'x' || next === 'u' || next === 'U') {
          const width = next === 'x' ? 2 : next === 'u' ? 4 : 8;
          const code = Number.parseInt(text.slice(index + 2, index + 2 + width), 16);
          if (!Number.isFinite(code)) return undefined;
          value += String.fromCodePoint(code);
          index += 2 + width;
        } else {
          value += char;
          index += 1;
        }
        continue;
      }
      value += char;
      index += 1;
    }
    items.push(value);
    skipSpace();
    if (text[index] === ',') index += 1;
  }
  skipSpace();
  return index === text.length ? items : undefined;
}

/**
 * RouterBench tables (as split by RouterDC): `prompt` (a Python list literal), `eval_name`, one
 * 0/1 column per model and `<model>|total_cost`. Models are the columns that have a cost column.
 * Rows with a missing outcome or cost are dropped so every model is compared on the same prompts.
 */
export function convertRouterBench(path: string): { examples: RoutingExample[]; dropped: number; models: string[] } {
  const files = statSync(path).isDirectory() ? csvFiles(path) : [path];
  if (files.length === 0) throw new Error(`no .csv files under ${path}`);
  const examples: RoutingExample[] = [];
  let dropped = 0;
  let models: string[] = [];
  for (const file of files) {
    const records = csvRecords(readFileSync(file, 'utf8'));
    const first = records[0];
    if (!first) continue;
    const fileModels = Object.keys(first)
      .filter((column) => column.endsWith('|total_cost'))
      .map((column) => column.slice(0, -'|total_cost'.length))
      .filter((model) => model in first);
    if (fileModels.length === 0) throw new Error(`${file}: no "<model>|total_cost" columns`);
    models = [...new Set([...models, ...fileModels])];
    for (const record of records) {
      const raw = record.prompt ?? '';
      const prompt = (parsePythonStringList(raw) ?? [raw]).join('\n');
      const outcomes: Record<string, number> = {};
      const costs: Record<string, number> = {};
      let complete = prompt.trim() !== '';
      for (const model of fileModels) {
        const score = parseBoolean(record[model] ?? '');
        const cost = Number(record[`${model}|total_cost`]);
        if (score === undefined || (record[`${model}|total_cost`] ?? '').trim() === '' || !Number.isFinite(cost) || cost < 0) {
          complete = false;
          break;
        }
        outcomes[model] = score;
        costs[model] = cost;
      }
      if (!complete) {
        dropped += 1;
        continue;
      }
      const example: RoutingExample = { prompt, outcomes, costs };
      const group = record.eval_name;
      if (group) example.group = group;
      examples.push(example);
    }
  }
  return { examples, dropped, models };
}

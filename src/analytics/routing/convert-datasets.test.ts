import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { convertRouteLlmResponses, convertRouterBench, parsePythonStringList } from './convert-datasets.ts';
import { csvRecords, parseCsv } from './csv.ts';
import { DatasetError, parseRoutingJsonl, serializeRoutingExample } from './routing-dataset.ts';

const folder = mkdtempSync(join(tmpdir(), 'costgate-routing-data-'));
after(() => rmSync(folder, { recursive: true, force: true }));

test('CSV: quoted fields with commas, doubled quotes, newlines and CRLF', () => {
  assert.deepEqual(parseCsv('a,b\r\n"x, ""y""","line1\nline2"\n'), [
    ['a', 'b'],
    ['x, "y"', 'line1\nline2'],
  ]);
  assert.deepEqual(csvRecords('p,m\n"q",True\n'), [{ p: 'q', m: 'True' }]);
});

test('Python list literals with both quote styles and escapes', () => {
  assert.deepEqual(parsePythonStringList(`['Write a function.\\nIt\\'s "easy".', "second \\u00e9"]`), ['Write a function.\nIt\'s "easy".', 'second é']);
  assert.equal(parsePythonStringList('not a list'), undefined);
});

test('RouteLLM layout: one boolean column per model, contaminated prompts dropped, group from the file name', () => {
  const root = join(folder, 'routellm');
  mkdirSync(join(root, 'bench', 'responses'), { recursive: true });
  writeFileSync(join(root, 'bench', 'responses', 'bench_algebra.csv'), 'prompt,weak-model,strong-model\n"What is 2+2?\nA. 3\nB. 4",False,True\n"Leaked question",True,True\n"Capital of France?",True,True\n');
  writeFileSync(join(root, 'bench', 'contaminated_prompts.jsonl'), `${JSON.stringify({ train_prompt: 'x', eval_prompt: 'Leaked question' })}\n`);
  const { examples, dropped } = convertRouteLlmResponses(root);
  assert.equal(dropped, 1);
  assert.deepEqual(examples, [
    { prompt: 'What is 2+2?\nA. 3\nB. 4', outcomes: { 'weak-model': 0, 'strong-model': 1 }, group: 'bench_algebra' },
    { prompt: 'Capital of France?', outcomes: { 'weak-model': 1, 'strong-model': 1 }, group: 'bench_algebra' },
  ]);
});

test('RouterBench layout: models are the columns with a cost column; rows with a missing value are dropped', () => {
  const file = join(folder, 'routerbench.csv');
  writeFileSync(
    file,
    ',sample_id,prompt,eval_name,m-a,m-b,m-a|model_response,m-b|model_response,m-a|total_cost,m-b|total_cost,oracle_model_to_route_to\n' +
      `0,s1,"['Question one']",arc,1.0,0.0,"['x']","['y']",0.001,0.02,m-a\n` +
      `1,s2,"['Question two']",arc,,1.0,"['x']","['y']",0.001,0.02,m-b\n`,
  );
  const { examples, dropped, models } = convertRouterBench(file);
  assert.deepEqual(models, ['m-a', 'm-b']);
  assert.equal(dropped, 1);
  assert.deepEqual(examples, [{ prompt: 'Question one', outcomes: { 'm-a': 1, 'm-b': 0 }, costs: { 'm-a': 0.001, 'm-b': 0.02 }, group: 'arc' }]);
});

test('routing JSONL: round trip, thumbs as booleans, errors name the line', () => {
  const line = serializeRoutingExample({ prompt: 'p', outcomes: { a: 1 }, costs: { a: 0.5 } });
  assert.deepEqual(parseRoutingJsonl(`${line}\n\n{"prompt":"q","outcomes":{"a":true}}\n`), [
    { prompt: 'p', outcomes: { a: 1 }, costs: { a: 0.5 } },
    { prompt: 'q', outcomes: { a: 1 } },
  ]);
  assert.throws(() => parseRoutingJsonl('{"prompt":"p","outcomes":{"a":2}}'), (error: unknown) => error instanceof DatasetError && /line 1/.test(error.message));
  assert.throws(() => parseRoutingJsonl('{"prompt":"p"}\n'), /outcomes/);
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createRandom } from '../src/pipeline/router/model/router-model.ts';

const folder = mkdtempSync(join(tmpdir(), 'costgate-cli-router-'));
after(() => rmSync(folder, { recursive: true, force: true }));

function costgate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/costgate.js', ...args], { encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const data = join(folder, 'data.jsonl');

before(() => {
  // Three models on 300 prompts: "cheap" fails maths prompts, "mid" half of them, "strong" 5% of all.
  const random = createRandom(11);
  const maths = ['integral', 'theorem', 'derivative', 'proof', 'matrix'];
  const chat = ['hello', 'thanks', 'weather', 'lunch', 'meeting'];
  const lines: string[] = [];
  for (let index = 0; index < 300; index += 1) {
    const hard = random() < 0.4;
    const words = hard ? maths : chat;
    const prompt = Array.from({ length: 5 + Math.floor(random() * 20) }, () => words[Math.floor(random() * words.length)]).join(' ');
    const outcomes = { cheap: hard ? (random() < 0.1 ? 1 : 0) : 1, mid: hard ? (random() < 0.5 ? 1 : 0) : 1, strong: random() < 0.95 ? 1 : 0 };
    lines.push(JSON.stringify({ prompt, outcomes, costs: { cheap: 0.0001, mid: 0.001, strong: 0.01 } }));
  }
  writeFileSync(data, `${lines.join('\n')}\n`);
});

test('router train writes a router file; eval --router prints the keyed JSON with every baseline', async () => {
  const out = join(folder, 'router.json');
  const trained = await costgate(['router', 'train', '--data', data, '--weak', 'cheap', '--strong', 'strong', '--out', out]);
  assert.equal(trained.code, 0, trained.stderr);
  assert.match(trained.stdout, /cheap: 300 outcomes/);
  const evaluated = await costgate(['router', 'eval', '--data', data, '--weak', 'cheap', '--strong', 'strong', '--router', out, '--format', 'json']);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  const result = JSON.parse(evaluated.stdout) as Record<string, Record<string, number | null>>;
  assert.deepEqual(Object.keys(result), ['router', 'random', 'longest_prompt', 'oracle', 'weak', 'strong']);
  for (const metrics of Object.values(result)) assert.deepEqual(Object.keys(metrics), ['apgr', 'cpt50', 'cpt80', 'saving_at_95']);
  // The signal is in the words: a router evaluated on its own training data must beat random clearly.
  assert.ok((result.router?.apgr ?? 0) > (result.random?.apgr ?? 1) + 0.1);
});

test('eval --cv prints the table; many models give the cost/quality curve against each model and the oracle', async () => {
  const table = await costgate(['router', 'eval', '--data', data, '--weak', 'cheap', '--strong', 'strong', '--cv', '3']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /longest prompts to strong/);
  assert.match(table.stdout, /3-fold cross-validation/);
  const multi = await costgate(['router', 'eval', '--data', data, '--models', 'all', '--cv', '3', '--format', 'json']);
  assert.equal(multi.code, 0, multi.stderr);
  const evaluation = JSON.parse(multi.stdout) as { models: Record<string, unknown>; router: Array<{ cost: number; quality: number }>; versus: Array<{ model: string; saving: number | null }>; oracle: unknown[] };
  assert.deepEqual(Object.keys(evaluation.models).sort(), ['cheap', 'mid', 'strong']);
  assert.ok(evaluation.router.length >= 2);
  assert.ok(evaluation.oracle.length >= 2);
  // Matching "mid"'s quality costs the router less than always calling "mid".
  const mid = evaluation.versus.find((row) => row.model === 'mid');
  assert.ok(mid && mid.saving !== null && mid.saving > 0, JSON.stringify(mid));
});

test('bad arguments and data fail with one clear line and exit code 2', async () => {
  const missing = await costgate(['router', 'eval', '--data', data, '--weak', 'cheap', '--strong', 'strong']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /exactly one of --router FILE or --cv K/);
  const unknownModel = await costgate(['router', 'train', '--data', data, '--weak', 'nope', '--strong', 'strong']);
  assert.equal(unknownModel.code, 2);
  assert.match(unknownModel.stderr, /"nope" has outcomes on 0 prompts/);
  const bad = join(folder, 'bad.jsonl');
  writeFileSync(bad, '{"prompt": "x", "outcomes": {"a": 3}}\n');
  const invalid = await costgate(['router', 'eval', '--data', bad, '--weak', 'a', '--strong', 'b', '--cv', '2']);
  assert.equal(invalid.code, 2);
  assert.match(invalid.stderr, /line 1: outcome for "a" must be a number in 0..1/);
  const noPrice = join(folder, 'no-costs.jsonl');
  writeFileSync(noPrice, Array.from({ length: 30 }, (_, index) => JSON.stringify({ prompt: `p ${index}`, outcomes: { 'unknown-a': index % 2, 'unknown-b': 1 } })).join('\n'));
  const unpriced = await costgate(['router', 'eval', '--data', noPrice, '--weak', 'unknown-a', '--strong', 'unknown-b', '--cv', '2']);
  assert.equal(unpriced.code, 2);
  assert.match(unpriced.stderr, /no price known for "unknown-a", "unknown-b"/);
});

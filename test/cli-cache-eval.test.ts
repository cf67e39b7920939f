import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeTinyGlove } from '../src/pipeline/semantic-cache/testing/tiny-glove.ts';

function costgate(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/costgate.js', ...args], { encoding: 'utf8', timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

let directory: string;
let glove: string;
before(() => {
  directory = mkdtempSync(join(tmpdir(), 'costgate-eval-'));
  glove = writeTinyGlove(join(directory, 'glove'));
  const lines = [
    { a: 'what is your refund policy', b: 'what is the refund policy', label: 1 },
    { a: 'how do i turn on the alarm', b: 'how do i turn off the alarm', label: 0 },
    { a: 'what is the weather in Paris today', b: 'what is the weather in London today', label: 0 },
    { a: 'how much does shipping cost', b: 'how much is shipping', label: 1 },
  ];
  writeFileSync(join(directory, 'pairs.jsonl'), lines.map((line) => JSON.stringify(line)).join('\n'));
});
after(() => rmSync(directory, { recursive: true, force: true }));

test('cache eval --format json prints the fixed sweep and the bounded rows', async () => {
  const result = await costgate('cache', 'eval', '--pairs', join(directory, 'pairs.jsonl'), '--embedder', `glove:${glove}`, '--format', 'json', '--thresholds', '0.5,0.9', '--bounds', '0.02,0.1');
  assert.equal(result.status, 0, result.stderr);
  const report = JSON.parse(result.stdout) as { fixed: Array<Record<string, number>>; bounded: Array<Record<string, number>> };
  assert.deepEqual(report.fixed.map((row) => row.threshold), [0.5, 0.9]);
  assert.deepEqual(report.bounded.map((row) => row.bound), [0.02, 0.1]);
  // The guard stops on/off and Paris/London; four queries are far too few to learn a threshold.
  assert.ok((report.fixed[0]?.hit_rate ?? 1) <= 0.5);
  assert.ok(report.bounded.every((row) => row.hit_rate === 0 && row.wrong_hit_rate === 0));
});

test('cache eval: a clear one-line error and exit 2 for bad arguments', async () => {
  const missing = await costgate('cache', 'eval', '--embedder', `glove:${glove}`);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--pairs FILE is required/);
  const badEmbedder = await costgate('cache', 'eval', '--pairs', join(directory, 'pairs.jsonl'), '--embedder', 'word2vec:x');
  assert.equal(badEmbedder.status, 2);
  assert.match(badEmbedder.stderr, /--embedder must be/);
  writeFileSync(join(directory, 'bad.jsonl'), '{"a": "x", "label": 1}\n');
  const badLine = await costgate('cache', 'eval', '--pairs', join(directory, 'bad.jsonl'), '--embedder', `glove:${glove}`);
  assert.equal(badLine.status, 2);
  assert.match(badLine.stderr, /line 1: expected/);
});

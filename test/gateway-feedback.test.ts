import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { examplesFromOutcomes } from '../src/analytics/routing/ledger-training-data.ts';
import { routerTrainCommand } from '../src/cli/router-train.ts';
import type { Outcome } from '../src/core/outcome.ts';
import type { RouterModelFile } from '../src/pipeline/router/model/router-model.ts';
import { ledgerRows, startStack, type Stack } from './support/stack.ts';

let stack: Stack;
let openai: OpenAI;

before(async () => {
  stack = await startStack({
    prices: { overrides: [{ provider: 'openai', model: 'gpt-4o-mini-emu*', inputPerMTok: 0.15, outputPerMTok: 0.6 }] },
    router: {
      enabled: true,
      features: {
        routed: { strategy: 'cascade', tiers: ['gpt-4o-mini', 'gpt-4o'] },
        shadowed: { strategy: 'cascade', tiers: ['gpt-4o-mini', 'gpt-4o'], shadow: { rate: 1, judge: 'gpt-4o-mini-emu-confidence-70' } },
      },
    },
  });
  openai = new OpenAI({ apiKey: 'sk-client', baseURL: `${stack.url}/v1`, maxRetries: 0 });
});
after(() => stack?.close());

async function call(feature: string, content: string): Promise<string> {
  const { response } = await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content }] }, { headers: { 'x-costgate-feature': feature } }).withResponse();
  const requestId = response.headers.get('x-costgate-request-id');
  assert.ok(requestId);
  return requestId;
}

async function feedback(body: unknown, key = 'sk-client'): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${stack.url}/costgate/feedback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function waitForOutcomes(check: (outcomes: Outcome[]) => boolean): Promise<Outcome[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const outcomes = await stack.gateway.ledger.outcomes();
    if (check(outcomes)) return outcomes;
    if (Date.now() > deadline) throw new Error(`outcomes not recorded in time: ${JSON.stringify(outcomes)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('feedback on a routed call is stored with the served model and the prompt (a training example)', async () => {
  const requestId = await call('routed', 'How do I rotate an API key?');
  const down = await feedback({ requestId, thumbs: 'down', comment: 'wrong steps' });
  assert.equal(down.status, 200);
  assert.deepEqual(down.json, { recorded: true, requestId, model: 'gpt-4o-mini', score: 0, trainingExample: true });
  const scored = await feedback({ request_id: requestId, score: 0.5 });
  assert.equal(scored.status, 200);
  const stored = (await stack.gateway.ledger.outcomes({ source: 'feedback' })).filter((outcome) => outcome.requestId === requestId);
  assert.deepEqual(
    stored.map((outcome) => [outcome.model, outcome.score, outcome.feature, outcome.prompt, outcome.detail]),
    [
      ['gpt-4o-mini', 0, 'routed', 'How do I rotate an API key?', { thumbs: 'down', comment: 'wrong steps' }],
      ['gpt-4o-mini', 0.5, 'routed', 'How do I rotate an API key?', undefined],
    ],
  );
  const [example] = examplesFromOutcomes(stored).examples;
  assert.deepEqual(example, { prompt: 'How do I rotate an API key?', outcomes: { 'gpt-4o-mini': 0.25 }, group: 'routed' });
});

test('feedback on an unrouted call falls back to its ledger row; unknown ids and bad bodies are refused', async () => {
  const requestId = await call('plain', 'Hello');
  const answer = await feedback({ requestId, thumbs: 'up' });
  assert.equal(answer.status, 200);
  assert.equal(answer.json.model, 'gpt-4o');
  assert.equal(answer.json.trainingExample, false);
  assert.equal((await feedback({ requestId: 'no-such-call', thumbs: 'up' })).status, 404);
  assert.equal((await feedback({ requestId, thumbs: 'down' }, 'sk-someone-else')).status, 404, 'another key cannot score the call');
  assert.equal((await feedback({ requestId, score: 1.5 })).status, 400);
  assert.equal((await feedback({ requestId, score: 1, thumbs: 'up' })).status, 400);
  assert.equal((await feedback({ thumbs: 'up' })).status, 400);
  const wrongMethod = await fetch(`${stack.url}/costgate/feedback`);
  assert.equal(wrongMethod.status, 405);
});

test('shadow mode: the strong tier answers too, a judge grades the cheap answer, the cost has its own ledger row', async () => {
  const requestId = await call('shadowed', 'Summarise our refund policy in one line.');
  const outcomes = await waitForOutcomes((list) => list.some((outcome) => outcome.requestId === requestId && outcome.source === 'shadow'));
  const shadow = outcomes.find((outcome) => outcome.requestId === requestId && outcome.source === 'shadow');
  assert.ok(shadow);
  assert.equal(shadow.model, 'gpt-4o-mini');
  assert.equal(shadow.referenceModel, 'gpt-4o');
  assert.equal(shadow.score, 0.7);
  assert.equal(shadow.prompt, 'Summarise our refund policy in one line.');
  assert.equal(shadow.detail?.method, 'judge');

  const [served, shadowRow] = await ledgerRows(stack, [requestId, `${requestId}:shadow`]);
  assert.ok(served && shadowRow);
  assert.equal(served.servedModel, 'gpt-4o-mini');
  assert.equal(shadowRow.route, 'shadow:gpt-4o');
  assert.equal(shadowRow.servedModel, 'gpt-4o');
  assert.equal(shadowRow.attribution.feature, 'shadowed');
  assert.ok(shadowRow.cost !== undefined && shadowRow.cost > 0n);
  assert.equal(shadowRow.baselineCost, 0n);
  const lever = shadowRow.levers?.[0];
  assert.equal(lever?.lever, 'routing');
  assert.equal(lever?.saving, -(shadowRow.cost ?? 0n));
  assert.equal(lever?.estimated, false);
  assert.equal(String(shadow.detail?.shadowCost), String(shadowRow.cost));
});

test('router train --from-ledger learns from the stored outcomes, read through the running gateway', async () => {
  const ids: string[] = [];
  for (let index = 0; index < 12; index += 1) ids.push(await call('shadowed', `Question number ${index} about invoices and refunds`));
  await waitForOutcomes((list) => ids.every((id) => list.some((outcome) => outcome.requestId === id && outcome.source === 'shadow')));
  const out = join(stack.directory, 'router.json');
  const lines: string[] = [];
  const log = console.log;
  console.log = (line: string) => lines.push(line);
  try {
    await routerTrainCommand(['--from-ledger', '--ledger', join(stack.directory, 'ledger.duckdb'), '--weak', 'gpt-4o-mini', '--strong', 'gpt-4o', '--out', out]);
  } finally {
    console.log = log;
  }
  assert.ok(existsSync(out));
  const file = JSON.parse(readFileSync(out, 'utf8')) as RouterModelFile;
  assert.ok((file.models['gpt-4o-mini']?.examples ?? 0) >= 13);
  assert.ok(Math.abs((file.models['gpt-4o-mini']?.baseRate ?? 0) - 0.7) < 0.05);
  assert.match(lines[0] ?? '', /outcomes with prompts/);
});

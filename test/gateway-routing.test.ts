import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { UsageEvent } from '../src/core/usage-event.ts';
import { trainRouterModel, type TrainingExample } from '../src/pipeline/router/model/router-model.ts';
import { createPricer } from '../src/pricing/pricer.ts';
import { ledgerRows, startStack, type Stack } from './support/stack.ts';

let stack: Stack;
let openai: OpenAI;
let anthropic: Anthropic;

// Scenario models (the emulator answers badly on purpose) priced like the models they stand for.
const OVERRIDES = [
  { provider: 'openai', model: 'gpt-4o-mini-emu*', inputPerMTok: 0.15, outputPerMTok: 0.6 },
  { provider: 'openai', model: 'gpt-4o-emu*', inputPerMTok: 2.5, outputPerMTok: 10 },
  { provider: 'anthropic', model: 'claude-haiku-4-5-emu*', inputPerMTok: 1, outputPerMTok: 5 },
  { provider: 'bedrock', model: 'anthropic.claude-3-haiku-20240307-v1:0-emu*', inputPerMTok: 0.25, outputPerMTok: 1.25 },
];

/** Hard prompts (proofs) need the strong model; greetings do not. Enough for a tiny classifier. */
function classifierExamples(): TrainingExample[] {
  const hard = ['prove the theorem about primes', 'derive the integral proof step by step', 'prove the lemma on convergence', 'formal proof of the inequality'];
  const easy = ['hello there friend', 'say hi to the team', 'greet the new user warmly', 'a friendly hello message'];
  const examples: TrainingExample[] = [];
  for (let round = 0; round < 8; round += 1) {
    for (const prompt of hard) examples.push({ prompt: `${prompt} ${round}`, outcomes: { 'gpt-4o-mini': 0, 'gpt-4o': 1 } });
    for (const prompt of easy) examples.push({ prompt: `${prompt} ${round}`, outcomes: { 'gpt-4o-mini': 1, 'gpt-4o': 1 } });
  }
  return examples;
}

before(async () => {
  const routerFile = join(process.cwd(), `.test-router-${process.pid}.json`);
  writeFileSync(routerFile, JSON.stringify(trainRouterModel(classifierExamples(), ['gpt-4o-mini', 'gpt-4o'])));
  after(() => import('node:fs').then(({ rmSync }) => rmSync(routerFile, { force: true })));
  const cheapThenStrong = (cheap: string, strong = 'gpt-4o', cascade: Record<string, unknown> = {}) => ({ strategy: 'cascade', tiers: [cheap, strong], cascade });
  stack = await startStack({
    prices: { overrides: OVERRIDES },
    router: {
      enabled: true,
      features: {
        good: cheapThenStrong('gpt-4o-mini'),
        unsure: cheapThenStrong('gpt-4o-mini-emu-unsure'),
        'low-logprobs': cheapThenStrong('gpt-4o-mini-emu-low-logprobs'),
        json: cheapThenStrong('gpt-4o-mini-emu-bad-json', 'gpt-4o-emu-json'),
        'confident-cheap': cheapThenStrong('gpt-4o-mini-emu-confidence-90', 'gpt-4o', { confidence: true }),
        'doubtful-cheap': cheapThenStrong('gpt-4o-mini-emu-confidence-30', 'gpt-4o', { confidence: true }),
        judged: cheapThenStrong('gpt-4o-mini', 'gpt-4o', { judge: { model: 'gpt-4o-mini-emu-confidence-20' } }),
        classified: { strategy: 'classifier', tiers: ['gpt-4o-mini', 'gpt-4o'], classifier: { file: routerFile, qualityTarget: 0.9 } },
        both: { strategy: 'classifier+cascade', tiers: ['gpt-4o-mini', 'gpt-4o'], classifier: { file: routerFile, qualityTarget: 0.9 } },
        converse: { strategy: 'cascade', tiers: ['anthropic.claude-3-haiku-20240307-v1:0-emu-unsure', 'anthropic.claude-3-5-sonnet-20240620-v1:0'] },
        shadowed: { strategy: 'cascade', tiers: ['gpt-4o-mini', 'gpt-4o'], shadow: { rate: 1 } },
        claude: { strategy: 'cascade', tiers: ['claude-haiku-4-5-emu-unsure', 'claude-sonnet-4-5'] },
        'claude-good': { strategy: 'cascade', tiers: ['claude-haiku-4-5', 'claude-sonnet-4-5'] },
      },
    },
  });
  openai = new OpenAI({ apiKey: 'sk-client', baseURL: `${stack.url}/v1`, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: 'sk-ant-client', baseURL: stack.url, maxRetries: 0 });
});
after(() => stack?.close());

const pricer = createPricer({ overrides: OVERRIDES.map((override) => ({ ...override, provider: override.provider as 'openai' | 'anthropic' | 'bedrock' })) });
const question = { role: 'user' as const, content: 'What is the capital of Australia?' };

function cost(provider: 'openai' | 'anthropic' | 'bedrock', model: string, usage: UsageEvent['usage']): bigint {
  const result = pricer.cost({ provider, model, usage, at: new Date() });
  assert.ok(result, `no price for ${model}`);
  return result.cost;
}

async function row(requestId: string | null): Promise<UsageEvent> {
  assert.ok(requestId);
  const [found] = await ledgerRows(stack, [requestId]);
  assert.ok(found, `no ledger row for ${requestId}`);
  return found;
}

function routingDetail(event: UsageEvent): Record<string, unknown> {
  const lever = event.levers?.find((effect) => effect.lever === 'routing');
  assert.ok(lever, 'no routing lever on the row');
  assert.equal(lever.estimated, true);
  return lever.detail ?? {};
}

test('cascade, good cheap answer: served by the cheap tier, header and ledger say so, saving against the requested model', async () => {
  const { data, response } = await openai.chat.completions
    .create({ model: 'gpt-4o', messages: [question] }, { headers: { 'x-costgate-feature': 'good' } })
    .withResponse();
  assert.equal(response.headers.get('x-costgate-model'), 'gpt-4o-mini');
  assert.equal(response.headers.get('x-costgate-route'), 'cascade:gpt-4o-mini');
  // The gateway asked for logprobs to score the answer; the client did not, so it gets none.
  assert.equal(data.choices[0]?.logprobs ?? null, null);
  const event = await row(response.headers.get('x-costgate-request-id'));
  assert.equal(event.servedModel, 'gpt-4o-mini');
  assert.equal(event.requestedModel, 'gpt-4o');
  assert.equal(event.route, 'cascade:gpt-4o-mini');
  const served = cost('openai', 'gpt-4o-mini', event.usage);
  assert.equal(event.cost, served);
  assert.equal(event.baselineCost, cost('openai', 'gpt-4o', event.usage));
  const detail = routingDetail(event);
  assert.equal(detail.escalations, 0);
  const [attempt] = detail.attempts as Array<{ signals: { meanTokenProbability: number } }>;
  assert.ok((attempt?.signals.meanTokenProbability ?? 0) > 0.9);
});

test('cascade escalates an "I don\'t know": the client gets the strong answer, the row costs cheap + strong', async () => {
  const { data, response } = await openai.chat.completions
    .create({ model: 'gpt-4o', messages: [question] }, { headers: { 'x-costgate-feature': 'unsure' } })
    .withResponse();
  assert.notEqual(data.choices[0]?.message.content, "I don't know.");
  assert.equal(response.headers.get('x-costgate-model'), 'gpt-4o');
  const event = await row(response.headers.get('x-costgate-request-id'));
  assert.equal(event.route, 'cascade:gpt-4o-mini-emu-unsure>gpt-4o');
  const detail = routingDetail(event);
  assert.equal(detail.escalations, 1);
  const attempts = detail.attempts as Array<{ model: string; reasons?: string[]; cost: string }>;
  assert.deepEqual(attempts[0]?.reasons, ['unsure']);
  const cheapCost = BigInt(attempts[0]?.cost ?? '0');
  assert.ok(cheapCost > 0n);
  assert.equal(detail.escalationCost, cheapCost.toString());
  const strongCost = cost('openai', 'gpt-4o', event.usage);
  assert.equal(event.cost, strongCost + cheapCost);
  // Baseline: the requested model on the observed tokens; the escalation made this call dearer.
  assert.equal(event.baselineCost, strongCost);
  assert.equal(response.headers.get('x-costgate-cost-usd'), (Number(strongCost + cheapCost) / 1e12).toString().replace(/0+$/, ''));
});

test('cascade escalates low token log-probabilities and invalid JSON', async () => {
  const low = await openai.chat.completions
    .create({ model: 'gpt-4o', messages: [question] }, { headers: { 'x-costgate-feature': 'low-logprobs' } })
    .withResponse();
  assert.equal(low.response.headers.get('x-costgate-model'), 'gpt-4o');
  const lowDetail = routingDetail(await row(low.response.headers.get('x-costgate-request-id')));
  const lowAttempt = (lowDetail.attempts as Array<{ score: number; signals: { meanTokenProbability: number } }>)[0];
  assert.ok((lowAttempt?.signals.meanTokenProbability ?? 1) < 0.2);
  assert.ok((lowAttempt?.score ?? 1) < 0.5);

  const json = await openai.chat.completions
    .create({ model: 'gpt-4o-emu-json', messages: [question], response_format: { type: 'json_object' } }, { headers: { 'x-costgate-feature': 'json' } })
    .withResponse();
  assert.equal(json.response.headers.get('x-costgate-model'), 'gpt-4o-emu-json');
  assert.equal(typeof (JSON.parse(json.data.choices[0]?.message.content ?? '') as { answer: unknown }).answer, 'string');
  const jsonDetail = routingDetail(await row(json.response.headers.get('x-costgate-request-id')));
  assert.deepEqual((jsonDetail.attempts as Array<{ reasons?: string[] }>)[0]?.reasons, ['invalid_json']);
});

test('self-reported confidence: asked of the cheap tier, stripped from the answer, low confidence escalates', async () => {
  const confident = await openai.chat.completions
    .create({ model: 'gpt-4o', messages: [question] }, { headers: { 'x-costgate-feature': 'confident-cheap' } })
    .withResponse();
  assert.equal(confident.response.headers.get('x-costgate-model'), 'gpt-4o-mini-emu-confidence-90');
  const text = confident.data.choices[0]?.message.content ?? '';
  assert.ok(text.length > 0);
  assert.doesNotMatch(text, /confidence/i);
  const confidentDetail = routingDetail(await row(confident.response.headers.get('x-costgate-request-id')));
  assert.equal((confidentDetail.attempts as Array<{ signals: { confidence: number } }>)[0]?.signals.confidence, 0.9);

  const doubtful = await openai.chat.completions
    .create({ model: 'gpt-4o', messages: [question] }, { headers: { 'x-costgate-feature': 'doubtful-cheap' } })
    .withResponse();
  assert.equal(doubtful.response.headers.get('x-costgate-model'), 'gpt-4o');
});

test('a judge model grades the cheap answer; a low grade escalates and the judge call is billed to the request', async () => {
  const { response } = await openai.chat.completions
    .create({ model: 'gpt-4o', messages: [question] }, { headers: { 'x-costgate-feature': 'judged' } })
    .withResponse();
  assert.equal(response.headers.get('x-costgate-model'), 'gpt-4o');
  const event = await row(response.headers.get('x-costgate-request-id'));
  const attempts = routingDetail(event).attempts as Array<{ model: string; role: string; score?: number; cost: string }>;
  assert.deepEqual(attempts.map((attempt) => [attempt.model, attempt.role]), [
    ['gpt-4o-mini', 'answer'],
    ['gpt-4o-mini-emu-confidence-20', 'judge'],
    ['gpt-4o', 'answer'],
  ]);
  assert.equal(attempts[1]?.score, 0.2);
  assert.equal(routingDetail(event).judgeCost, attempts[1]?.cost);
  assert.equal(routingDetail(event).escalationCost, attempts[0]?.cost);
  const extra = BigInt(attempts[0]?.cost ?? '0') + BigInt(attempts[1]?.cost ?? '0');
  assert.equal(event.cost, cost('openai', 'gpt-4o', event.usage) + extra);
});

test('streamed cascade: an accepted cheap stream is buffered then replayed whole; the buffering time is on the row', async () => {
  const { data: stream, response } = await openai.chat.completions
    .create({ model: 'gpt-4o', messages: [question], stream: true }, { headers: { 'x-costgate-feature': 'good' } })
    .withResponse();
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  assert.ok(text.length > 20);
  assert.equal(response.headers.get('x-costgate-model'), 'gpt-4o-mini');
  const event = await row(response.headers.get('x-costgate-request-id'));
  assert.equal(event.stream, true);
  assert.equal(event.servedModel, 'gpt-4o-mini');
  assert.equal(typeof routingDetail(event).streamBufferMs, 'number');
  assert.ok(event.usage.output.total && event.usage.output.total > 0);
});

test('Anthropic streamed cascade escalates live to the strong model; the client sees one clean stream', async () => {
  const stream = anthropic.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 200, messages: [question] }, { headers: { 'x-costgate-feature': 'claude' } });
  const message = await stream.finalMessage();
  const text = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
  assert.notEqual(text, "I don't know.");
  assert.equal(message.model, 'claude-sonnet-4-5');
  const requestId = (await stream.withResponse()).response.headers.get('x-costgate-request-id');
  const event = await row(requestId);
  assert.equal(event.route, 'cascade:claude-haiku-4-5-emu-unsure>claude-sonnet-4-5');
  assert.equal(event.servedModel, 'claude-sonnet-4-5');
  const detail = routingDetail(event);
  assert.equal(detail.escalations, 1);
  assert.ok(event.cost !== undefined && event.cost > cost('anthropic', 'claude-sonnet-4-5', event.usage));

  const good = await anthropic.messages
    .create({ model: 'claude-sonnet-4-5', max_tokens: 200, messages: [question] }, { headers: { 'x-costgate-feature': 'claude-good' } })
    .withResponse();
  assert.equal(good.response.headers.get('x-costgate-model'), 'claude-haiku-4-5');
  assert.equal(good.data.model, 'claude-haiku-4-5');
});

test('classifier: predicted-hard prompts go to the strong tier, easy ones to the cheap tier, no extra calls', async () => {
  const hard = await openai.chat.completions
    .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'prove the theorem about primes 3' }] }, { headers: { 'x-costgate-feature': 'classified' } })
    .withResponse();
  const easy = await openai.chat.completions
    .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello there friend 5' }] }, { headers: { 'x-costgate-feature': 'classified' } })
    .withResponse();
  assert.equal(hard.response.headers.get('x-costgate-model'), 'gpt-4o');
  assert.equal(easy.response.headers.get('x-costgate-model'), 'gpt-4o-mini');
  const easyRow = await row(easy.response.headers.get('x-costgate-request-id'));
  assert.equal(easyRow.route, 'classifier:gpt-4o-mini');
  const predicted = routingDetail(easyRow).predicted as Record<string, number>;
  assert.ok((predicted['gpt-4o-mini'] ?? 0) >= 0.9 * (predicted['gpt-4o'] ?? 1));
  assert.equal(easyRow.cost, cost('openai', 'gpt-4o-mini', easyRow.usage));
  const hardRow = await row(hard.response.headers.get('x-costgate-request-id'));
  assert.equal(hardRow.route, 'classifier:gpt-4o');
  assert.equal(hardRow.cost, hardRow.baselineCost);
});

test('classifier+cascade: predicted-hard prompts skip to the strong tier, the rest are cascaded', async () => {
  const hard = await openai.chat.completions
    .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'formal proof of the inequality 2' }] }, { headers: { 'x-costgate-feature': 'both' } })
    .withResponse();
  const easy = await openai.chat.completions
    .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'greet the new user warmly 1' }] }, { headers: { 'x-costgate-feature': 'both' } })
    .withResponse();
  assert.equal(hard.response.headers.get('x-costgate-route'), 'classifier+cascade:gpt-4o');
  assert.equal(easy.response.headers.get('x-costgate-route'), 'classifier+cascade:gpt-4o-mini');
  const easyDetail = routingDetail(await row(easy.response.headers.get('x-costgate-request-id')));
  assert.ok(((easyDetail.attempts as Array<{ score: number }>)[0]?.score ?? 0) >= 0.5);
});

test('Bedrock Converse: the cascade swaps the model in the path and prices each attempt under its own id', async () => {
  const response = await fetch(`${stack.url}/model/${encodeURIComponent('anthropic.claude-3-5-sonnet-20240620-v1:0')}/converse`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-costgate-feature': 'converse' },
    body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'What is the capital of Australia?' }] }] }),
  });
  assert.equal(response.status, 200);
  const body = (await response.json()) as { output: { message: { content: Array<{ text: string }> } } };
  assert.notEqual(body.output.message.content[0]?.text, "I don't know.");
  assert.equal(response.headers.get('x-costgate-model'), 'anthropic.claude-3-5-sonnet-20240620-v1:0');
  const event = await row(response.headers.get('x-costgate-request-id'));
  assert.equal(event.servedModel, 'anthropic.claude-3-5-sonnet-20240620-v1:0');
  const attempts = routingDetail(event).attempts as Array<{ model: string; cost: string; reasons?: string[] }>;
  assert.deepEqual(attempts[0]?.reasons, ['unsure']);
  assert.equal(event.cost, cost('bedrock', 'anthropic.claude-3-5-sonnet-20240620-v1:0', event.usage) + BigInt(attempts[0]?.cost ?? '0'));
});

test('calls outside a routed feature, or asking for a model not in the tiers, are untouched', async () => {
  const { response } = await openai.chat.completions.create({ model: 'gpt-4o', messages: [question] }, { headers: { 'x-costgate-feature': 'plain' } }).withResponse();
  assert.equal(response.headers.get('x-costgate-model'), null);
  const other = await openai.chat.completions.create({ model: 'gpt-4.1', messages: [question] }, { headers: { 'x-costgate-feature': 'good' } }).withResponse();
  assert.equal(other.response.headers.get('x-costgate-model'), null);
  const event = await row(other.response.headers.get('x-costgate-request-id'));
  assert.equal(event.route, undefined);
  assert.equal(event.levers, undefined);
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { readAnswerScenario } from './answer-scenarios.ts';
import { type RunningEmulator, startEmulator } from './index.ts';

let emulator: RunningEmulator;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  emulator = await startEmulator();
  openai = new OpenAI({ apiKey: 'x', baseURL: `${emulator.url}/v1`, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: 'x', baseURL: emulator.url, maxRetries: 0 });
});
after(() => emulator.close());

const ask = { role: 'user' as const, content: 'What is the capital of Australia?' };

test('scenario markers are read from the model id', () => {
  assert.deepEqual(readAnswerScenario('gpt-4o-mini'), { unsure: false, confidence: undefined, json: undefined, lowLogprobs: false });
  assert.deepEqual(readAnswerScenario('gpt-4o-mini-emu-unsure-emu-confidence-35-emu-low-logprobs'), { unsure: true, confidence: 0.35, json: undefined, lowLogprobs: true });
  assert.equal(readAnswerScenario('m-emu-bad-json').json, 'invalid');
  assert.equal(readAnswerScenario('m-emu-json').json, 'valid');
});

test('emu-unsure answers "I don\'t know." on OpenAI and Anthropic, with matching token counts', async () => {
  const chat = await openai.chat.completions.create({ model: 'gpt-4o-mini-emu-unsure', messages: [ask] });
  assert.equal(chat.choices[0]?.message.content, "I don't know.");
  assert.equal(chat.usage?.completion_tokens, 5);
  const message = await anthropic.messages.create({ model: 'claude-haiku-4-5-emu-unsure', max_tokens: 100, messages: [ask] });
  assert.deepEqual(message.content, [{ type: 'text', text: "I don't know." }]);
});

test('emu-json gives a JSON object, emu-bad-json one cut short, emu-confidence-N a final line', async () => {
  const good = await openai.chat.completions.create({ model: 'gpt-4o-emu-json', messages: [ask], response_format: { type: 'json_object' } });
  assert.equal(typeof (JSON.parse(good.choices[0]?.message.content ?? '') as { answer: unknown }).answer, 'string');
  const bad = await openai.chat.completions.create({ model: 'gpt-4o-emu-bad-json', messages: [ask] });
  assert.throws(() => JSON.parse(bad.choices[0]?.message.content ?? ''));
  const confident = await openai.chat.completions.create({ model: 'gpt-4o-emu-confidence-42', messages: [ask] });
  assert.match(confident.choices[0]?.message.content ?? '', /\nConfidence: 0\.42$/);
});

test('logprobs come back only when asked: high by default, low under emu-low-logprobs, streamed too', async () => {
  const plain = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [ask] });
  assert.equal(plain.choices[0]?.logprobs, null);
  const high = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [ask], logprobs: true });
  const highValues = high.choices[0]?.logprobs?.content?.map((token) => token.logprob) ?? [];
  assert.equal(highValues.length, high.usage?.completion_tokens);
  assert.ok(highValues.every((value) => value > -0.1));
  const low = await openai.chat.completions.create({ model: 'gpt-4o-mini-emu-low-logprobs', messages: [ask], logprobs: true });
  assert.ok((low.choices[0]?.logprobs?.content ?? []).every((token) => token.logprob < -2));
  const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini-emu-low-logprobs', messages: [ask], logprobs: true, stream: true });
  const streamed: number[] = [];
  for await (const chunk of stream) for (const token of chunk.choices[0]?.logprobs?.content ?? []) streamed.push(token.logprob);
  assert.equal(streamed.length, 24);
  assert.ok(streamed.every((value) => value < -2));
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { observeChatStream } from './openai-stream.ts';

const chunk = (body: object) => `data: ${JSON.stringify(body)}\n\n`;
const STREAM =
  chunk({ id: 'c1', object: 'chat.completion.chunk', model: 'gpt-4o-2024-08-06', choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }], usage: null }) +
  chunk({ id: 'c1', object: 'chat.completion.chunk', model: 'gpt-4o-2024-08-06', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: null }) +
  chunk({ id: 'c1', object: 'chat.completion.chunk', model: 'gpt-4o-2024-08-06', choices: [], usage: { prompt_tokens: 2006, completion_tokens: 300, total_tokens: 2306, prompt_tokens_details: { cached_tokens: 1920 } } }) +
  'data: [DONE]\n\n';

test('injected usage: the usage-only chunk and usage:null fields are removed, usage is read', () => {
  const observer = observeChatStream(true);
  let out = '';
  for (let index = 0; index < STREAM.length; index += 37) out += observer.transform(Buffer.from(STREAM.slice(index, index + 37))).toString();
  assert.ok(!out.includes('usage'), out);
  assert.equal(out.split('data: ').length - 1, 3, 'two content chunks and [DONE]');
  const facts = observer.finish();
  assert.equal(facts.servedModel, 'gpt-4o-2024-08-06');
  assert.equal(facts.stopReason, 'stop');
  assert.equal(facts.usage?.input.total, 2006);
  assert.equal(facts.usage?.input.cacheRead, 1920);
});

test('client-requested usage: bytes pass through unchanged', () => {
  const observer = observeChatStream(false);
  const out = observer.transform(Buffer.from(STREAM)).toString();
  assert.equal(out, STREAM);
  assert.equal(observer.finish().usage?.output.total, 300);
});

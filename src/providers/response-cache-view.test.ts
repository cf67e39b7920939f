import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ANTHROPIC_OPERATIONS } from './anthropic/anthropic-adapter.ts';
import { bedrockOperation } from './bedrock/bedrock-adapter.ts';
import { OPENAI_OPERATIONS } from './openai/openai-adapter.ts';
import type { Operation, ParsedCall } from './provider.ts';
import { responseCacheView, responseText } from './response-cache-view.ts';

function call(operation: Operation, body: Record<string, unknown>, headers: ParsedCall['headers'] = {}, stream = false): ParsedCall {
  return { operation, body, rawBody: Buffer.from(JSON.stringify(body)), model: String(body.model ?? operation.pathModel), stream, headers };
}

test('OpenAI chat: attribution and cache-routing fields never change the key; answer-changing ones do', () => {
  const base = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], temperature: 0 };
  const key = (body: Record<string, unknown>) => responseCacheView(call(OPENAI_OPERATIONS.chat, body))?.keyMaterial;
  assert.equal(key({ ...base, user: 'u1', metadata: { feature: 'x' }, prompt_cache_key: 'k', safety_identifier: 's' }), key(base));
  assert.equal(key({ temperature: 0, messages: base.messages, model: base.model }), key(base), 'key order does not matter');
  assert.notEqual(key({ ...base, temperature: 0.5 }), key(base));
  assert.notEqual(key({ ...base, max_tokens: 10 }), key(base));
  assert.notEqual(key({ ...base, tools: [{ type: 'function', function: { name: 'f' } }] }), key(base));
  assert.notEqual(key({ ...base, messages: [{ role: 'user', content: 'hi!' }] }), key(base));
});

test('OpenAI chat and Responses: the semantic view is the final question and its context', () => {
  const view = responseCacheView(
    call(OPENAI_OPERATIONS.chat, { model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: [{ type: 'text', text: 'What is DNS?' }] }] }),
  )?.semantic;
  assert.equal(view?.prompt, 'What is DNS?');
  assert.deepEqual([view?.userTurns, view?.priorTurns, view?.hasTools, view?.hasMedia], [1, 0, false, false]);
  const other = responseCacheView(call(OPENAI_OPERATIONS.chat, { model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Explain DNS' }] }))?.semantic;
  assert.equal(other?.context, view?.context, 'same context whatever the question');
  const image = responseCacheView(
    call(OPENAI_OPERATIONS.chat, { model: 'gpt-4o', messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this' }, { type: 'image_url', image_url: { url: 'x' } }] }] }),
  )?.semantic;
  assert.equal(image?.hasMedia, true);
  const responses = responseCacheView(call(OPENAI_OPERATIONS.responses, { model: 'gpt-5', input: 'What is DNS?', instructions: 'Be brief.', previous_response_id: 'resp_1' }))?.semantic;
  assert.deepEqual([responses?.prompt, responses?.priorTurns], ['What is DNS?', 1]);
  assert.equal(responseCacheView(call(OPENAI_OPERATIONS.responses, { model: 'gpt-5', input: 'x', background: true }))?.uncacheable, 'background response');
  const assistantLast = responseCacheView(call(OPENAI_OPERATIONS.chat, { model: 'm', messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }] }));
  assert.equal(assistantLast?.semantic, undefined);
});

test('Anthropic: cache_control markers and metadata are left out; beta headers are in', () => {
  const body = { model: 'claude-sonnet-4-5', max_tokens: 100, system: [{ type: 'text', text: 'sys' }], messages: [{ role: 'user', content: 'hi' }] };
  const marked = {
    ...body,
    metadata: { user_id: 'u' },
    system: [{ type: 'text', text: 'sys', cache_control: { type: 'ephemeral', ttl: '1h' } }],
  };
  const key = (value: Record<string, unknown>, headers: ParsedCall['headers'] = {}) => responseCacheView(call(ANTHROPIC_OPERATIONS.messages, value, headers))?.keyMaterial;
  assert.equal(key(marked), key(body));
  assert.notEqual(key(body, { 'anthropic-beta': 'context-1m-2025-08-07' }), key(body));
  const semantic = responseCacheView(call(ANTHROPIC_OPERATIONS.messages, { ...body, tools: [{ name: 't' }] }))?.semantic;
  assert.equal(semantic?.hasTools, true);
});

test('Bedrock Converse: cachePoint blocks and requestMetadata are left out', () => {
  const operation = bedrockOperation('converse', 'anthropic.claude-sonnet-4-5-20250929-v1%3A0');
  const body = { messages: [{ role: 'user', content: [{ text: 'hi' }] }], system: [{ text: 'sys' }], inferenceConfig: { temperature: 0.3 } };
  const marked = { ...body, requestMetadata: { feature: 'f' }, system: [{ text: 'sys' }, { cachePoint: { type: 'default' } }] };
  const view = responseCacheView(call(operation, marked));
  assert.equal(view?.keyMaterial, responseCacheView(call(operation, body))?.keyMaterial);
  assert.deepEqual([view?.semantic?.prompt, view?.semantic?.temperature], ['hi', 0.3]);
});

test('answer text is read from bodies and from recorded streams', () => {
  const chat = call(OPENAI_OPERATIONS.chat, { model: 'm', messages: [] });
  assert.equal(responseText(chat, Buffer.from(JSON.stringify({ choices: [{ message: { content: 'Paris.' } }] }))), 'Paris.');
  const stream = call(OPENAI_OPERATIONS.chat, { model: 'm', messages: [], stream: true }, {}, true);
  const sse = 'data: {"choices":[{"delta":{"content":"Pa"}}]}\n\ndata: {"choices":[{"delta":{"content":"ris."}}]}\n\ndata: [DONE]\n\n';
  assert.equal(responseText(stream, Buffer.from(sse)), 'Paris.');
  const anthropic = call(ANTHROPIC_OPERATIONS.messages, { model: 'c', messages: [] }, {}, true);
  const events = 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}\n\n';
  assert.equal(responseText(anthropic, Buffer.from(events)), 'Hi');
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useEmulator } from './test-support.ts';

const { post } = useEmulator();

const reasoningHeaders = { 'x-emulator-reasoning-tokens': '1000', 'x-emulator-reply-tokens': '50' };
const question = [{ role: 'user', content: 'Is this spam?' }];

describe('Anthropic thinking', () => {
  test('an enabled budget caps thinking, counts inside max_tokens and is reported', async () => {
    const { status, body } = await post(
      '/v1/messages',
      { model: 'claude-sonnet-4-5', max_tokens: 2000, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: question },
      { ...reasoningHeaders, 'x-emulator-reasoning-tokens': '5000' },
    );
    assert.equal(status, 200);
    assert.equal(body.usage.output_tokens, 1024 + 50);
    assert.deepEqual(body.usage.output_tokens_details, { thinking_tokens: 1024 });
    assert.equal(body.stop_reason, 'end_turn');
  });

  test('thinking eats the cap first, so a tight max_tokens truncates the answer', async () => {
    const { body } = await post(
      '/v1/messages',
      { model: 'claude-sonnet-4-5', max_tokens: 1030, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: question },
      reasoningHeaders,
    );
    assert.equal(body.usage.output_tokens, 1030);
    assert.equal(body.stop_reason, 'max_tokens');
  });

  test('a budget not below max_tokens is rejected like the real API', async () => {
    const { status, body } = await post(
      '/v1/messages',
      { model: 'claude-sonnet-4-5', max_tokens: 1024, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: question },
      reasoningHeaders,
    );
    assert.equal(status, 400);
    assert.match(body.error.message, /budget_tokens/);
  });

  test('no thinking unless asked, except models that think by default; disabled means none', async () => {
    const plain = await post('/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 100, messages: question }, reasoningHeaders);
    assert.equal(plain.body.usage.output_tokens, 50);
    const opus = await post('/v1/messages', { model: 'claude-opus-5', max_tokens: 5000, messages: question }, reasoningHeaders);
    assert.equal(opus.body.usage.output_tokens, 1050);
    const off = await post('/v1/messages', { model: 'claude-opus-5', max_tokens: 5000, thinking: { type: 'disabled' }, messages: question }, reasoningHeaders);
    assert.equal(off.body.usage.output_tokens, 50);
  });

  test('output_config.effort scales adaptive thinking around the default high', async () => {
    const low = await post(
      '/v1/messages',
      { model: 'claude-opus-5', max_tokens: 5000, thinking: { type: 'adaptive' }, output_config: { effort: 'low' }, messages: question },
      reasoningHeaders,
    );
    assert.equal(low.body.usage.output_tokens_details.thinking_tokens, 200);
  });

  test('Bedrock Converse: thinking in additionalModelRequestFields, billed inside outputTokens', async () => {
    const { body } = await post(
      '/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse',
      {
        messages: [{ role: 'user', content: [{ text: 'Is this spam?' }] }],
        inferenceConfig: { maxTokens: 3000 },
        additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 2048 } },
      },
      reasoningHeaders,
    );
    assert.equal(body.usage.outputTokens, 1050);
    assert.equal(body.stopReason, 'end_turn');
  });
});

describe('OpenAI reasoning effort', () => {
  test('reasoning_effort scales reasoning tokens around medium; none spends nothing', async () => {
    const ask = async (effort: string | undefined) =>
      (await post('/v1/chat/completions', { model: 'o4-mini', messages: question, ...(effort ? { reasoning_effort: effort } : {}) }, reasoningHeaders)).body
        .usage.completion_tokens_details.reasoning_tokens;
    assert.equal(await ask(undefined), 1000);
    assert.equal(await ask('high'), 2000);
    assert.equal(await ask('low'), 400);
    assert.equal(await ask('none'), 0);
  });

  test('Responses reads reasoning.effort', async () => {
    const { body } = await post('/v1/responses', { model: 'o4-mini', input: 'Is this spam?', reasoning: { effort: 'minimal' } }, reasoningHeaders);
    assert.equal(body.usage.output_tokens_details.reasoning_tokens, 100);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useEmulator } from './test-support.ts';
import { countTokens } from './tokens.ts';

const { post } = useEmulator();

/** Prose 120 tokens; the same answer as JSON 40. */
const lengths = { 'x-emulator-reply-tokens': '120', 'x-emulator-structured-reply-tokens': '40' };
const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false };
const question = [{ role: 'user', content: 'Extract the vendor.' }];

describe('structured replies', () => {
  test('Chat: a json_schema response_format makes the answer the JSON object at its own length; none keeps the prose', async () => {
    const structured = await post('/v1/chat/completions', { model: 'gpt-4o-mini', messages: question, response_format: { type: 'json_schema', json_schema: { name: 'x', schema, strict: true } } }, lengths);
    const content = structured.body.choices[0].message.content as string;
    assert.equal(structured.body.usage.completion_tokens, 40);
    assert.equal(typeof JSON.parse(content).answer, 'string');
    assert.equal(countTokens(content) <= 42, true);
    const prose = await post('/v1/chat/completions', { model: 'gpt-4o-mini', messages: question }, lengths);
    assert.equal(prose.body.usage.completion_tokens, 120);
    assert.throws(() => JSON.parse(prose.body.choices[0].message.content as string));
  });

  test('Chat JSON mode without the structured header writes the plain length as JSON', async () => {
    const { body } = await post('/v1/chat/completions', { model: 'gpt-4o-mini', messages: question, response_format: { type: 'json_object' } }, { 'x-emulator-reply-tokens': '30' });
    assert.equal(body.usage.completion_tokens, 30);
    JSON.parse(body.choices[0].message.content as string);
  });

  test('a cap below the JSON answer cuts it: unclosed, finish_reason length', async () => {
    const { body } = await post('/v1/chat/completions', { model: 'gpt-4o-mini', max_tokens: 20, messages: question, response_format: { type: 'json_schema', json_schema: { name: 'x', schema } } }, lengths);
    assert.equal(body.usage.completion_tokens, 20);
    assert.equal(body.choices[0].finish_reason, 'length');
    assert.throws(() => JSON.parse(body.choices[0].message.content as string));
  });

  test('Responses text.format, Anthropic output_config.format and Converse outputConfig.textFormat', async () => {
    const responses = await post('/v1/responses', { model: 'gpt-4o-mini', input: 'Extract the vendor.', text: { format: { type: 'json_schema', name: 'x', schema } } }, lengths);
    assert.equal(responses.body.usage.output_tokens, 40);
    const anthropic = await post('/v1/messages', { model: 'claude-sonnet-4-5', max_tokens: 1000, messages: question, output_config: { format: { type: 'json_schema', schema } } }, lengths);
    assert.equal(anthropic.body.usage.output_tokens, 40);
    JSON.parse(anthropic.body.content[0].text as string);
    const converse = await post(
      '/model/anthropic.claude-haiku-4-5-20251001-v1%3A0/converse',
      {
        messages: [{ role: 'user', content: [{ text: 'Extract the vendor.' }] }],
        outputConfig: { textFormat: { type: 'json_schema', structure: { jsonSchema: { name: 'x', schema: JSON.stringify(schema) } } } },
      },
      lengths,
    );
    assert.equal(converse.body.usage.outputTokens, 40);
    JSON.parse(converse.body.output.message.content[0].text as string);
  });

  test('a loop under a JSON format still repeats until the cap', async () => {
    const { body } = await post(
      '/v1/messages',
      { model: 'claude-sonnet-4-5', max_tokens: 300, messages: question, output_config: { format: { type: 'json_schema', schema } } },
      { ...lengths, 'x-emulator-structured-reply-tokens': '5000', 'x-emulator-reply-loop': '12' },
    );
    assert.equal(body.stop_reason, 'max_tokens');
    assert.equal(body.usage.output_tokens, 300);
    const text = body.content[0].text as string;
    assert.ok(text.startsWith('{"answer":"'));
    // A loop: the reply's end already occurred well before it.
    const end = text.slice(-40);
    assert.ok(text.indexOf(end) < text.length - 200);
  });
});

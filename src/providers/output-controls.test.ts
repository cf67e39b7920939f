import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { anthropicOutputControls } from './anthropic/anthropic-output-controls.ts';
import { bedrockConverseOutputControls } from './bedrock/bedrock-output-controls.ts';
import { openAIChatOutputControls, openAIResponsesOutputControls } from './openai/openai-output-controls.ts';
import { clampEffort } from './output-controls.ts';

const schema = { name: 'label', schema: { type: 'object', properties: { label: { type: 'string' } }, required: ['label'] }, strict: true };

describe('OpenAI Chat', () => {
  test('the cap field: max_completion_tokens for reasoning models, max_tokens otherwise, the client field when set', () => {
    const reasoning: Record<string, unknown> = {};
    assert.equal(openAIChatOutputControls.setMaxTokens(reasoning, 'o4-mini', 300), 'max_completion_tokens');
    assert.deepEqual(reasoning, { max_completion_tokens: 300 });
    const plain: Record<string, unknown> = {};
    assert.equal(openAIChatOutputControls.setMaxTokens(plain, 'gpt-4o-mini', 300), 'max_tokens');
    const legacy: Record<string, unknown> = { max_tokens: 4000 };
    assert.equal(openAIChatOutputControls.setMaxTokens(legacy, 'gpt-5', 300), 'max_tokens');
    assert.deepEqual(openAIChatOutputControls.maxTokens({ max_completion_tokens: 10, max_tokens: 99 }), { field: 'max_completion_tokens', value: 10 });
    assert.equal(openAIChatOutputControls.capIncludesReasoning({}, 'gpt-5-mini'), true);
    assert.equal(openAIChatOutputControls.capIncludesReasoning({}, 'gpt-5-chat-latest'), false);
  });

  test('reasoning_effort is lowered to the nearest level the model supports, never raised', () => {
    const body: Record<string, unknown> = { reasoning_effort: 'high' };
    assert.deepEqual(openAIChatOutputControls.clampReasoning(body, 'gpt-5', { maxEffort: 'none' }), { from: 'effort:high', to: 'effort:minimal' });
    assert.equal(body['reasoning_effort'], 'minimal');
    const o3: Record<string, unknown> = {};
    openAIChatOutputControls.clampReasoning(o3, 'o3', { maxEffort: 'none' });
    assert.equal(o3['reasoning_effort'], 'low', 'o-series go no lower than low; absent means medium');
    const already: Record<string, unknown> = { reasoning_effort: 'low' };
    assert.equal(openAIChatOutputControls.clampReasoning(already, 'o3', { maxEffort: 'medium' }), undefined);
    const newer: Record<string, unknown> = {};
    assert.equal(openAIChatOutputControls.clampReasoning(newer, 'gpt-5.1', { maxEffort: 'low' }), undefined, 'gpt-5.1 defaults to none');
    const plain: Record<string, unknown> = {};
    assert.equal(openAIChatOutputControls.clampReasoning(plain, 'gpt-4o', { maxEffort: 'none' }), undefined);
    assert.deepEqual(plain, {}, 'no reasoning field is sent to a model without reasoning');
  });

  test('JSON schema through response_format, unless the client chose a format or tools', () => {
    const body: Record<string, unknown> = {};
    assert.equal(openAIChatOutputControls.choosesOwnFormat(body), false);
    openAIChatOutputControls.applyJsonSchema(body, schema);
    assert.deepEqual(body['response_format'], { type: 'json_schema', json_schema: { name: 'label', schema: schema.schema, strict: true } });
    assert.equal(openAIChatOutputControls.choosesOwnFormat({ response_format: { type: 'json_object' } }), true);
    assert.equal(openAIChatOutputControls.choosesOwnFormat({ tools: [{ type: 'function' }] }), true);
  });
});

describe('OpenAI Responses', () => {
  test('max_output_tokens, reasoning.effort and text.format', () => {
    const body: Record<string, unknown> = { reasoning: { effort: 'high', summary: 'auto' }, text: { verbosity: 'low' } };
    assert.equal(openAIResponsesOutputControls.setMaxTokens(body, 'o4-mini', 500), 'max_output_tokens');
    openAIResponsesOutputControls.clampReasoning(body, 'o4-mini', { maxEffort: 'low' });
    assert.deepEqual(body['reasoning'], { effort: 'low', summary: 'auto' });
    openAIResponsesOutputControls.applyJsonSchema(body, schema);
    assert.deepEqual(body['text'], { verbosity: 'low', format: { type: 'json_schema', name: 'label', schema: schema.schema, strict: true } });
  });
});

describe('Anthropic', () => {
  test('thinking: off for a clamp of none, budget lowered (other keys kept), never raised', () => {
    const off: Record<string, unknown> = { max_tokens: 16000, thinking: { type: 'enabled', budget_tokens: 8000 } };
    assert.deepEqual(anthropicOutputControls.clampReasoning(off, 'claude-sonnet-4-5', { maxEffort: 'none' }), { from: 'thinking:8000', to: 'thinking:off' });
    assert.deepEqual(off['thinking'], { type: 'disabled' });
    const lowered: Record<string, unknown> = { thinking: { type: 'enabled', budget_tokens: 8000, display: 'omitted' } };
    anthropicOutputControls.clampReasoning(lowered, 'claude-sonnet-4-5', { maxThinkingTokens: 2048 });
    assert.deepEqual(lowered['thinking'], { type: 'enabled', budget_tokens: 2048, display: 'omitted' });
    const small: Record<string, unknown> = { thinking: { type: 'enabled', budget_tokens: 1500 } };
    assert.equal(anthropicOutputControls.clampReasoning(small, 'claude-sonnet-4-5', { maxThinkingTokens: 2048 }), undefined);
    const none: Record<string, unknown> = {};
    assert.equal(anthropicOutputControls.clampReasoning(none, 'claude-sonnet-4-5', { maxEffort: 'none' }), undefined);
    assert.deepEqual(none, {});
  });

  test('a model that thinks by default is turned off explicitly, with effort brought to high', () => {
    const body: Record<string, unknown> = { output_config: { effort: 'max' } };
    assert.equal(anthropicOutputControls.capIncludesReasoning(body, 'claude-opus-5'), true);
    anthropicOutputControls.clampReasoning(body, 'claude-opus-5', { maxEffort: 'minimal' });
    assert.deepEqual(body, { output_config: { effort: 'low' }, thinking: { type: 'disabled' } });
    const budgetOnly: Record<string, unknown> = { output_config: { effort: 'max' } };
    anthropicOutputControls.clampReasoning(budgetOnly, 'claude-opus-5', { maxThinkingTokens: 0 });
    assert.deepEqual(budgetOnly, { output_config: { effort: 'high' }, thinking: { type: 'disabled' } });
    const effort: Record<string, unknown> = { output_config: { effort: 'xhigh' }, thinking: { type: 'adaptive' } };
    anthropicOutputControls.clampReasoning(effort, 'claude-opus-4-6', { maxEffort: 'medium' });
    assert.deepEqual(effort['output_config'], { effort: 'medium' });
  });

  test('structured output through output_config.format, keeping other output_config keys', () => {
    const body: Record<string, unknown> = { output_config: { effort: 'low' } };
    assert.equal(anthropicOutputControls.applyJsonSchema(body, schema), 'output_config.format');
    assert.deepEqual(body['output_config'], { effort: 'low', format: { type: 'json_schema', schema: schema.schema } });
    assert.equal(anthropicOutputControls.choosesOwnFormat({ tools: [{ name: 'x' }] }), true);
  });
});

describe('Bedrock Converse', () => {
  test('inferenceConfig.maxTokens, thinking in additionalModelRequestFields, outputConfig.textFormat', () => {
    const body: Record<string, unknown> = {
      inferenceConfig: { temperature: 0.2 },
      additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 4096 }, top_k: 5 },
    };
    assert.equal(bedrockConverseOutputControls.setMaxTokens(body, 'anthropic.claude-sonnet-4-5', 700), 'inferenceConfig.maxTokens');
    assert.deepEqual(body['inferenceConfig'], { temperature: 0.2, maxTokens: 700 });
    assert.deepEqual(bedrockConverseOutputControls.reasoning(body, 'anthropic.claude-sonnet-4-5').budgetTokens, 4096);
    bedrockConverseOutputControls.clampReasoning(body, 'anthropic.claude-sonnet-4-5', { maxThinkingTokens: 0 });
    assert.deepEqual(body['additionalModelRequestFields'], { thinking: { type: 'disabled' }, top_k: 5 });
    bedrockConverseOutputControls.applyJsonSchema(body, schema);
    assert.deepEqual(body['outputConfig'], {
      textFormat: { type: 'json_schema', structure: { jsonSchema: { schema: JSON.stringify(schema.schema), name: 'label' } } },
    });
    const oss: Record<string, unknown> = {};
    bedrockConverseOutputControls.clampReasoning(oss, 'openai.gpt-oss-120b-1:0', { maxEffort: 'none' });
    assert.deepEqual(oss, { additionalModelRequestFields: { reasoning_effort: 'low' } });
  });
});

test('clampEffort picks the highest supported level at or below the ceiling, else the lowest', () => {
  assert.equal(clampEffort(['low', 'medium', 'high'], 'minimal'), 'low');
  assert.equal(clampEffort(['none', 'low', 'medium', 'high'], 'minimal'), 'none');
  assert.equal(clampEffort(['low', 'medium', 'high'], 'xhigh'), 'high');
});

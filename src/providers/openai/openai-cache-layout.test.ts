import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openAICacheLayout, openAICacheMode, openAITakesExplicitBreakpoints, setOpenAICacheMode } from './openai-cache-layout.ts';

test('explicit breakpoints are taken by gpt-5.6 and later only', () => {
  for (const model of ['gpt-5.6-sol', 'gpt-5.6-terra-2026-07-30', 'gpt-5.7', 'gpt-6']) assert.equal(openAITakesExplicitBreakpoints(model), true, model);
  for (const model of ['gpt-5.5', 'gpt-5', 'gpt-4.1', 'gpt-4o-mini', 'o3']) assert.equal(openAITakesExplicitBreakpoints(model), false, model);
});

test('Chat: content parts are blocks; a string content keys like one text part and is turned into one when marked', () => {
  const body = {
    messages: [
      { role: 'system', content: 'Rules.' },
      { role: 'user', content: [{ type: 'text', text: 'Document A' }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }, { type: 'text', text: 'Question?' }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
    ],
  };
  const plain = openAICacheLayout('chat.completions', structuredClone(body), false);
  assert.ok(plain?.blocks.every((block) => !block.markable), 'nothing markable on older models');
  const layout = openAICacheLayout('chat.completions', body, true);
  assert.ok(layout);
  assert.deepEqual(
    layout.blocks.map((block) => [block.section, block.key.slice(0, 12), block.markable]),
    [
      ['system', 'TRules.', true],
      ['messages', 'TDocument A', true],
      ['messages', '{"type":"ima', true],
      ['messages', 'TQuestion?', true],
      ['messages', '{"role":"ass', false],
    ],
  );
  layout.mark(0, '30m');
  layout.mark(1, '30m');
  layout.mark(4, '30m');
  assert.deepEqual(body.messages[0]?.content, [{ type: 'text', text: 'Rules.', prompt_cache_breakpoint: { mode: 'explicit' } }]);
  assert.deepEqual((body.messages[1]?.content as unknown[])[0], { type: 'text', text: 'Document A', prompt_cache_breakpoint: { mode: 'explicit' } });
  assert.equal(body.messages[2]?.content, null, 'an unmarkable block is not touched');
  // The marked body keys exactly like the one before: the same prefix, the markers seen as the client's.
  const again = openAICacheLayout('chat.completions', body, true);
  assert.deepEqual(again?.blocks.map((block) => block.key), layout.blocks.map((block) => block.key));
  assert.deepEqual(again?.blocks.map((block) => block.clientTtl), ['30m', '30m', undefined, undefined, undefined]);
});

test('Responses: input_text parts and user strings are markable; instructions, string input and assistant strings are not', () => {
  const body = {
    instructions: 'Be brief.',
    input: [
      { role: 'user', content: 'First question' },
      { role: 'assistant', content: 'First answer' },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Second', prompt_cache_breakpoint: { mode: 'explicit' } }] },
      { type: 'function_call_output', call_id: 'c1', output: '42' },
    ],
  };
  const layout = openAICacheLayout('responses', body, true);
  assert.deepEqual(
    layout?.blocks.map((block) => [block.section, block.markable, block.clientTtl]),
    [
      ['system', false, undefined],
      ['messages', true, undefined],
      ['messages', false, undefined],
      ['messages', true, '30m'],
      ['messages', false, undefined],
    ],
  );
  layout?.mark(1, '30m');
  assert.deepEqual(body.input[0]?.content, [{ type: 'input_text', text: 'First question', prompt_cache_breakpoint: { mode: 'explicit' } }]);
  const oneShot = openAICacheLayout('responses', { instructions: 'x', input: 'just a string' }, true);
  assert.ok(oneShot?.blocks.every((block) => !block.markable));
});

test('prompt_cache_options: the client mode is read, and setting the mode keeps the other options', () => {
  const body: Record<string, unknown> = { prompt_cache_options: { ttl: '30m' } };
  assert.equal(openAICacheMode(body), undefined);
  setOpenAICacheMode(body, 'explicit');
  assert.deepEqual(body.prompt_cache_options, { ttl: '30m', mode: 'explicit' });
  assert.equal(openAICacheMode(body), 'explicit');
});

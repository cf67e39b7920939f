import assert from 'node:assert/strict';
import { test } from 'node:test';
import { anthropicCacheLayout, anthropicCacheRules } from './anthropic-cache-layout.ts';

test('blocks in cache order with client markers; a string and a text block have the same key', () => {
  const body = {
    tools: [{ name: 't', input_schema: {}, cache_control: { type: 'ephemeral', ttl: '1h' } }],
    system: 'rules',
    messages: [
      { role: 'user', content: 'hello' },
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'x', signature: 's' }, { type: 'text', text: 'hi', cache_control: { type: 'ephemeral' } }] },
    ],
  };
  const layout = anthropicCacheLayout(body);
  assert.ok(layout);
  assert.deepEqual(
    layout.blocks.map((block) => [block.section, block.markable, block.clientTtl]),
    [['tools', true, '1h'], ['system', true, undefined], ['messages', true, undefined], ['messages', false, undefined], ['messages', true, '5m']],
  );
  const asBlock = anthropicCacheLayout({ system: [{ type: 'text', text: 'rules' }], messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }] });
  assert.equal(asBlock?.blocks[0]?.key, layout.blocks[1]?.key);
  assert.equal(asBlock?.blocks[1]?.key, layout.blocks[2]?.key);
  assert.equal(layout.automatic, false);
});

test('mark turns strings into marked text blocks and leaves everything else as sent', () => {
  const body: Record<string, unknown> = { system: 'rules', messages: [{ role: 'user', content: 'hello' }] };
  const layout = anthropicCacheLayout(body);
  layout?.mark(0, '1h');
  layout?.mark(1, '5m');
  assert.deepEqual(body, {
    system: [{ type: 'text', text: 'rules', cache_control: { type: 'ephemeral', ttl: '1h' } }],
    messages: [{ role: 'user', content: [{ type: 'text', text: 'hello', cache_control: { type: 'ephemeral' } }] }],
  });
});

test('top-level cache_control is automatic mode; per-model minimums', () => {
  assert.equal(anthropicCacheLayout({ cache_control: { type: 'ephemeral' }, messages: [] })?.automatic, true);
  assert.equal(anthropicCacheRules('claude-haiku-4-5').minimumTokens, 4096);
  assert.equal(anthropicCacheRules('claude-sonnet-4-6').minimumTokens, 2048);
  assert.equal(anthropicCacheRules('claude-sonnet-4-5').minimumTokens, 1024);
  assert.equal(anthropicCacheRules('claude-opus-5').minimumTokens, 512);
});

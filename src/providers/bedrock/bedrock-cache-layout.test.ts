import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bedrockCacheRules, converseCacheLayout } from './bedrock-cache-layout.ts';

test('Converse: client cachePoints attach to the block before them; mark inserts a cachePoint after a block', () => {
  const body: Record<string, unknown> = {
    toolConfig: { tools: [{ toolSpec: { name: 't' } }, { cachePoint: { type: 'default' } }] },
    system: [{ text: 'rules' }],
    messages: [{ role: 'user', content: [{ text: 'doc' }, { text: 'question' }] }],
  };
  const layout = converseCacheLayout(body);
  assert.ok(layout);
  assert.deepEqual(layout.blocks.map((block) => [block.section, block.clientTtl]), [['tools', '5m'], ['system', undefined], ['messages', undefined], ['messages', undefined]]);
  layout.mark(1, '1h');
  layout.mark(2, '5m');
  assert.deepEqual(body.system, [{ text: 'rules' }, { cachePoint: { type: 'default', ttl: '1h' } }]);
  assert.deepEqual((body.messages as Array<{ content: unknown[] }>)[0]?.content, [{ text: 'doc' }, { cachePoint: { type: 'default' } }, { text: 'question' }]);
});

test('Bedrock rules: spacing minimum, 1h only where the AWS table lists it', () => {
  const sonnet45 = bedrockCacheRules('anthropic.claude-sonnet-4-5-20250929-v1:0');
  assert.deepEqual([sonnet45.minimumTokens, sonnet45.minimumRule, sonnet45.ttls], [1024, 'spacing', ['5m', '1h']]);
  assert.deepEqual(bedrockCacheRules('anthropic.claude-sonnet-4-6').ttls, ['5m']);
  assert.equal(bedrockCacheRules('anthropic.claude-haiku-4-5-20251001-v1:0').minimumTokens, 4096);
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { convertAnthropicUsage } from '../anthropic/convert-anthropic-usage.ts';
import { convertBedrockConverseUsage, convertTitanEmbeddingUsage } from './convert-bedrock-usage.ts';

function fixture(name: string): any {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
}

describe('convertBedrockConverseUsage', () => {
  it('adds cache reads and writes on top of inputTokens, split by cacheDetails', () => {
    const body = fixture('converse-cache-details.json');
    const usage = convertBedrockConverseUsage(body.usage);
    assert.deepEqual(usage?.input, {
      total: 7_100, // 100 + 5,000 read + 2,000 written
      noCache: 100,
      cacheRead: 5_000,
      cacheWrite5m: 1_500,
      cacheWrite1h: 500,
    });
    assert.deepEqual(usage?.output, { total: 400 });
    assert.equal(usage?.raw, body.usage);
  });

  it('counts all writes as 5m without cacheDetails', () => {
    const usage = convertBedrockConverseUsage(fixture('converse-cache-no-details.json').usage);
    assert.deepEqual(usage?.input, { total: 4_126, noCache: 30, cacheRead: 0, cacheWrite5m: 4_096 });
  });

  it('leaves cache fields undefined when not reported', () => {
    const usage = convertBedrockConverseUsage(fixture('converse-no-cache.json').usage);
    assert.deepEqual(usage?.input, { total: 18, noCache: 18 });
    assert.deepEqual(usage?.output, { total: 6 });
  });

  it('reads ConverseStream metadata.usage', () => {
    const events = fixture('converse-stream-events.json') as any[];
    const metadata = events.find((event) => 'metadata' in event)?.metadata;
    const usage = convertBedrockConverseUsage(metadata.usage);
    assert.deepEqual(usage?.input, { total: 9_258, noCache: 42, cacheRead: 8_192, cacheWrite5m: 1_024, cacheWrite1h: 0 });
    assert.deepEqual(usage?.output, { total: 7 });
  });

  it('puts writes that cacheDetails does not cover, or unknown TTLs, into 5m', () => {
    const usage = convertBedrockConverseUsage({
      inputTokens: 1,
      outputTokens: 1,
      cacheWriteInputTokens: 1_000,
      cacheDetails: [{ ttl: '1h', inputTokens: 300 }, { ttl: '30m', inputTokens: 200 }, { ttl: '5m' }, 'junk'],
    });
    assert.deepEqual(usage?.input, { total: 1_001, noCache: 1, cacheWrite5m: 700, cacheWrite1h: 300 });
  });

  it('keeps reported zeros', () => {
    const usage = convertBedrockConverseUsage({
      inputTokens: 0,
      outputTokens: 0,
      totalTokens: 0,
      cacheReadInputTokens: 0,
      cacheWriteInputTokens: 0,
    });
    assert.deepEqual(usage?.input, { total: 0, noCache: 0, cacheRead: 0, cacheWrite5m: 0 });
    assert.deepEqual(usage?.output, { total: 0 });
  });

  it('returns undefined for things that are not usage', () => {
    for (const raw of [undefined, null, 'usage', 3, [], {}, { totalTokens: 5 }]) {
      assert.equal(convertBedrockConverseUsage(raw), undefined, JSON.stringify(raw));
    }
  });
});

describe('Bedrock InvokeModel with Anthropic bodies', () => {
  it('uses convertAnthropicUsage (input_tokens is uncached only)', () => {
    const usage = convertAnthropicUsage(fixture('invoke-model-claude.json').usage);
    assert.deepEqual(usage?.input, {
      total: 11_560,
      noCache: 60,
      cacheRead: 9_000,
      cacheWrite5m: 2_500,
      cacheWrite1h: 0,
    });
    assert.deepEqual(usage?.output, { total: 210 });
  });

  it('converts a batch output record', () => {
    const record = fixture('batch-output-record.json');
    const usage = convertAnthropicUsage(record.modelOutput.usage);
    assert.deepEqual(usage?.input, { total: 800, noCache: 800 });
    assert.deepEqual(usage?.output, { total: 120 });
  });
});

describe('convertTitanEmbeddingUsage', () => {
  it('reads inputTextTokenCount and keeps only the count as raw', () => {
    const usage = convertTitanEmbeddingUsage(fixture('titan-embed-v2.json'));
    assert.deepEqual(usage, { input: { total: 7, noCache: 7 }, output: { total: 0 }, raw: { inputTextTokenCount: 7 } });
  });

  it('returns undefined without a count', () => {
    assert.equal(convertTitanEmbeddingUsage({ embedding: [0.1] }), undefined);
    assert.equal(convertTitanEmbeddingUsage(null), undefined);
  });
});

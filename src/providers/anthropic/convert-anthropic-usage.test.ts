import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { convertAnthropicUsage, mergeAnthropicStreamUsage } from './convert-anthropic-usage.ts';

function fixture(name: string): any {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
}

/** What a streaming adapter does: message_start usage + the LAST message_delta usage. */
function streamUsage(events: any[]): unknown {
  const start = events.find((event) => event.type === 'message_start')?.message?.usage;
  const deltas = events.filter((event) => event.type === 'message_delta');
  return mergeAnthropicStreamUsage(start, deltas.at(-1)?.usage);
}

describe('convertAnthropicUsage', () => {
  it('adds cache writes on top of input_tokens (docs: 188,086 written + 21 input)', () => {
    const body = fixture('message-cache-write-large.json');
    const usage = convertAnthropicUsage(body.usage);
    assert.deepEqual(usage?.input, {
      total: 188_107,
      noCache: 21,
      cacheRead: 0,
      cacheWrite5m: 188_086,
      cacheWrite1h: 0,
    });
    assert.deepEqual(usage?.output, { total: 393 });
    assert.equal(usage?.raw, body.usage);
  });

  it('splits writes into 5m and 1h by cache_creation', () => {
    const usage = convertAnthropicUsage(fixture('message-cache-split.json').usage);
    assert.deepEqual(usage?.input, {
      total: 15_050, // 50 + 10,000 read + 5,000 written
      noCache: 50,
      cacheRead: 10_000,
      cacheWrite5m: 2_000,
      cacheWrite1h: 3_000,
    });
  });

  it('counts all writes as 5m when the TTL split is absent', () => {
    const usage = convertAnthropicUsage(fixture('message-legacy-no-split.json').usage);
    assert.deepEqual(usage?.input, { total: 1_012, noCache: 12, cacheRead: 0, cacheWrite5m: 1_000 });
  });

  it('puts any write tokens the split does not account for into 5m', () => {
    const usage = convertAnthropicUsage({
      input_tokens: 1,
      output_tokens: 1,
      cache_creation_input_tokens: 900,
      cache_creation: { ephemeral_1h_input_tokens: 600 },
    });
    assert.deepEqual(usage?.input, { total: 901, noCache: 1, cacheWrite5m: 300, cacheWrite1h: 600 });
  });

  it('treats null cache fields as not reported, and reported zeros as zero', () => {
    const minimal = convertAnthropicUsage(fixture('message-minimal.json').usage);
    assert.deepEqual(minimal?.input, { total: 9, noCache: 9 });
    assert.deepEqual(minimal?.output, { total: 2 });

    const zeros = convertAnthropicUsage({
      input_tokens: 0,
      output_tokens: 0,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    });
    assert.deepEqual(zeros?.input, { total: 0, noCache: 0, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0 });
    assert.deepEqual(zeros?.output, { total: 0 });
  });

  it('reads thinking_tokens as reasoning inside output_tokens', () => {
    const usage = convertAnthropicUsage(fixture('message-thinking.json').usage);
    assert.deepEqual(usage?.output, { total: 1_500, text: 300, reasoning: 1_200 });
    assert.deepEqual(usage?.input, { total: 2_448, noCache: 400, cacheRead: 2_048, cacheWrite5m: 0, cacheWrite1h: 0 });
  });

  it('converts a Message Batches result line', () => {
    const line = fixture('batch-result-line.json');
    const usage = convertAnthropicUsage(line.result.message.usage);
    assert.deepEqual(usage?.input, { total: 1_200, noCache: 1_200, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0 });
    assert.deepEqual(usage?.output, { total: 350 });
  });

  it('returns undefined for things that are not usage', () => {
    for (const raw of [undefined, null, 'usage', 7, [], {}, { service_tier: 'standard' }]) {
      assert.equal(convertAnthropicUsage(raw), undefined, JSON.stringify(raw));
    }
  });
});

describe('mergeAnthropicStreamUsage', () => {
  it('keeps the input side of message_start when the delta has nulls', () => {
    const usage = convertAnthropicUsage(streamUsage(fixture('stream-events.json')));
    assert.deepEqual(usage?.input, {
      total: 15_025, // 25 + 12,000 read + 3,000 written
      noCache: 25,
      cacheRead: 12_000,
      cacheWrite5m: 0,
      cacheWrite1h: 3_000,
    });
    // Cumulative output from the delta, not message_start's placeholder 1.
    assert.deepEqual(usage?.output, { total: 15 });
  });

  it('lets the last delta win when it repeats (cumulative) input and cache fields', () => {
    const merged = streamUsage(fixture('stream-events-delta-repeats.json')) as Record<string, unknown>;
    assert.equal(merged.input_tokens, 2_950);
    assert.equal(merged.cache_creation_input_tokens, 0); // delta null: start's value kept
    assert.deepEqual(merged.server_tool_use, { web_search_requests: 1 });
    assert.deepEqual(merged.cache_creation, { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 });
    const usage = convertAnthropicUsage(merged);
    assert.deepEqual(usage?.input, { total: 7_046, noCache: 2_950, cacheRead: 4_096, cacheWrite5m: 0, cacheWrite1h: 0 });
    assert.deepEqual(usage?.output, { total: 260, text: 80, reasoning: 180 });
  });

  it('does not modify its arguments', () => {
    const start = { input_tokens: 5, output_tokens: 1 };
    const delta = { output_tokens: 9, input_tokens: null };
    mergeAnthropicStreamUsage(start, delta);
    assert.deepEqual(start, { input_tokens: 5, output_tokens: 1 });
  });

  it('works with only one side, and gives undefined with neither', () => {
    assert.deepEqual(mergeAnthropicStreamUsage({ input_tokens: 5, output_tokens: 1 }, undefined), {
      input_tokens: 5,
      output_tokens: 1,
    });
    assert.deepEqual(mergeAnthropicStreamUsage(null, { output_tokens: 4, input_tokens: null }), { output_tokens: 4 });
    assert.equal(mergeAnthropicStreamUsage(undefined, null), undefined);
  });
});

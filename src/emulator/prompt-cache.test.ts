import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createManualClock } from './clock.ts';
import {
  BreakpointCache,
  type CacheTtl,
  PREFIX_IDLE_MS,
  PrefixCache,
  type PromptBlock,
  breakpointProblem,
} from './prompt-cache.ts';

const MINUTE = 60_000;

function tokens(count: number, salt = 0): Uint32Array {
  return Uint32Array.from({ length: count }, (_, index) => (index * 7 + salt) % 50_000);
}

function block(name: string, tokenCount: number, breakpoint?: CacheTtl): PromptBlock {
  return breakpoint === undefined ? { identity: name, tokens: tokenCount } : { identity: name, tokens: tokenCount, breakpoint };
}

describe('PrefixCache (OpenAI automatic caching)', () => {
  test('prompts under 1024 tokens are never cached', () => {
    const cache = new PrefixCache(createManualClock());
    assert.deepEqual(cache.apply('m', tokens(1023)), { cachedTokens: 0, writtenTokens: 0 });
    assert.deepEqual(cache.apply('m', tokens(1023)), { cachedTokens: 0, writtenTokens: 0 });
  });

  test('a repeat reads the longest 1024 + k*128 prefix', () => {
    const cache = new PrefixCache(createManualClock());
    assert.deepEqual(cache.apply('m', tokens(2000)), { cachedTokens: 0, writtenTokens: 1920 });
    assert.deepEqual(cache.apply('m', tokens(2000)), { cachedTokens: 1920, writtenTokens: 0 });
  });

  test('a longer prompt sharing a prefix hits at the last boundary inside the shared part', () => {
    const cache = new PrefixCache(createManualClock());
    cache.apply('m', tokens(1300));
    const longer = new Uint32Array(3000);
    longer.set(tokens(1300));
    longer.fill(9, 1300);
    assert.deepEqual(cache.apply('m', longer), { cachedTokens: 1280, writtenTokens: 2944 - 1280 });
  });

  test('a change inside the first 1024 tokens is a miss', () => {
    const cache = new PrefixCache(createManualClock());
    cache.apply('m', tokens(1500));
    const changed = tokens(1500);
    changed[10] = 49_999;
    assert.equal(cache.apply('m', changed).cachedTokens, 0);
  });

  test('models and prompt_cache_keys are separate namespaces', () => {
    const cache = new PrefixCache(createManualClock());
    cache.apply('gpt-4o\u0000', tokens(1500));
    assert.equal(cache.apply('gpt-4o-mini\u0000', tokens(1500)).cachedTokens, 0);
    assert.equal(cache.apply('gpt-4o\u0000tenant-a', tokens(1500)).cachedTokens, 0);
    assert.equal(cache.apply('gpt-4o\u0000', tokens(1500)).cachedTokens, 1408);
  });

  test('entries expire after 10 idle minutes and each use refreshes them', () => {
    const clock = createManualClock();
    const cache = new PrefixCache(clock);
    cache.apply('m', tokens(1500));
    clock.advance(PREFIX_IDLE_MS - 1);
    assert.equal(cache.apply('m', tokens(1500)).cachedTokens, 1408, 'still alive just before 10 minutes');
    clock.advance(PREFIX_IDLE_MS - 1);
    assert.equal(cache.apply('m', tokens(1500)).cachedTokens, 1408, 'the read refreshed the entry');
    clock.advance(PREFIX_IDLE_MS);
    assert.equal(cache.apply('m', tokens(1500)).cachedTokens, 0, 'expired after 10 idle minutes');
  });
});

describe('PrefixCache explicit breakpoints (gpt-5.6+ prompt_cache_breakpoint)', () => {
  test('explicit mode caches only at marked offsets, exactly, and nothing without a marker', () => {
    const cache = new PrefixCache(createManualClock());
    assert.deepEqual(cache.apply('m', tokens(3000), PREFIX_IDLE_MS, { mode: 'explicit' }), { cachedTokens: 0, writtenTokens: 0 });
    assert.deepEqual(cache.apply('m', tokens(3000), PREFIX_IDLE_MS, { mode: 'explicit' }), { cachedTokens: 0, writtenTokens: 0 }, 'nothing was stored');
    assert.deepEqual(cache.apply('m', tokens(3000), PREFIX_IDLE_MS, { mode: 'explicit', breakpoints: [1500] }), { cachedTokens: 0, writtenTokens: 1500 });
    assert.deepEqual(cache.apply('m', tokens(3000), PREFIX_IDLE_MS, { mode: 'explicit', breakpoints: [1500] }), { cachedTokens: 1500, writtenTokens: 0 }, 'not rounded to 128');
    // Without a marker on that offset the entry is not found: there is no lookback.
    assert.equal(cache.apply('m', tokens(3000), PREFIX_IDLE_MS, { mode: 'explicit', breakpoints: [2500] }).cachedTokens, 0);
  });

  test('a read and a write in one request: reads the marked live prefix, writes up to the last marker', () => {
    const cache = new PrefixCache(createManualClock());
    cache.apply('m', tokens(4000), PREFIX_IDLE_MS, { mode: 'explicit', breakpoints: [1200] });
    assert.deepEqual(cache.apply('m', tokens(4000), PREFIX_IDLE_MS, { mode: 'explicit', breakpoints: [1200, 2000, 3900] }), { cachedTokens: 1200, writtenTokens: 2700 });
    assert.deepEqual(cache.apply('m', tokens(4000), PREFIX_IDLE_MS, { mode: 'explicit', breakpoints: [1200, 2000, 3900] }), { cachedTokens: 3900, writtenTokens: 0 });
  });

  test('below 1,024 tokens a marker stores nothing; only the latest four (explicit) or three (implicit) write', () => {
    const cache = new PrefixCache(createManualClock());
    assert.deepEqual(cache.apply('m', tokens(3000), PREFIX_IDLE_MS, { mode: 'explicit', breakpoints: [900] }), { cachedTokens: 0, writtenTokens: 0 });
    const five = [1100, 1300, 1500, 1700, 1900];
    assert.equal(cache.apply('m', tokens(3000), PREFIX_IDLE_MS, { mode: 'explicit', breakpoints: five }).writtenTokens, 1900);
    assert.equal(cache.apply('m', tokens(3000), PREFIX_IDLE_MS, { mode: 'explicit', breakpoints: [1100] }).cachedTokens, 0, 'the fifth-latest marker wrote nothing');
    assert.equal(cache.apply('m', tokens(3000), PREFIX_IDLE_MS, { mode: 'explicit', breakpoints: [1300] }).cachedTokens, 1300);
    const implicit = new PrefixCache(createManualClock());
    implicit.apply('n', tokens(3000), PREFIX_IDLE_MS, { mode: 'implicit', breakpoints: [1100, 1300, 1500, 1700] });
    assert.equal(implicit.apply('n', tokens(1400), PREFIX_IDLE_MS, { mode: 'explicit', breakpoints: [1100] }).cachedTokens, 0, 'beside the implicit one, the fourth-latest wrote nothing');
    assert.equal(implicit.apply('n', tokens(1400), PREFIX_IDLE_MS, { mode: 'explicit', breakpoints: [1300] }).cachedTokens, 1300);
  });

  test('implicit mode with markers: the automatic entry plus the marked offsets; reads take the longer', () => {
    const cache = new PrefixCache(createManualClock());
    assert.deepEqual(cache.apply('m', tokens(2000), PREFIX_IDLE_MS, { breakpoints: [1999] }), { cachedTokens: 0, writtenTokens: 1999 });
    assert.deepEqual(cache.apply('m', tokens(2000), PREFIX_IDLE_MS, { breakpoints: [1999] }), { cachedTokens: 1999, writtenTokens: 0 });
    // Without the marker the implicit entry at the last 128-token step is still there.
    assert.equal(cache.apply('m', tokens(2000)).cachedTokens, 1920);
  });

  test('an explicit entry lives for the TTL given and each read refreshes it', () => {
    const clock = createManualClock();
    const cache = new PrefixCache(clock);
    const ttl = 30 * MINUTE;
    cache.apply('m', tokens(2000), ttl, { mode: 'explicit', breakpoints: [1500] });
    clock.advance(ttl - 1);
    assert.equal(cache.apply('m', tokens(2000), ttl, { mode: 'explicit', breakpoints: [1500] }).cachedTokens, 1500);
    clock.advance(ttl - 1);
    assert.equal(cache.apply('m', tokens(2000), ttl, { mode: 'explicit', breakpoints: [1500] }).cachedTokens, 1500, 'refreshed by the read');
    clock.advance(ttl);
    assert.equal(cache.apply('m', tokens(2000), ttl, { mode: 'explicit', breakpoints: [1500] }).cachedTokens, 0);
  });
});

describe('BreakpointCache (Anthropic cache_control / Bedrock cachePoint)', () => {
  test('first call writes up to the breakpoint, the second reads it', () => {
    const cache = new BreakpointCache(createManualClock());
    const blocks = [block('system', 1500, '5m'), block('user', 20)];
    assert.deepEqual(cache.apply('ns', blocks, 1024), {
      totalTokens: 1520,
      uncachedTokens: 20,
      readTokens: 0,
      write5mTokens: 1500,
      write1hTokens: 0,
    });
    assert.deepEqual(cache.apply('ns', blocks, 1024), {
      totalTokens: 1520,
      uncachedTokens: 20,
      readTokens: 1500,
      write5mTokens: 0,
      write1hTokens: 0,
    });
  });

  test('below the minimum nothing is written and both counters stay 0', () => {
    const cache = new BreakpointCache(createManualClock());
    const blocks = [block('system', 1500, '5m'), block('user', 20)];
    for (let call = 0; call < 2; call += 1) {
      const usage = cache.apply('ns', blocks, 4096);
      assert.equal(usage.readTokens + usage.write5mTokens + usage.write1hTokens, 0);
      assert.equal(usage.uncachedTokens, 1520);
    }
  });

  test('the minimum is cumulative: a short first breakpoint is covered by the next one', () => {
    const cache = new BreakpointCache(createManualClock());
    const usage = cache.apply('ns', [block('tools', 300, '5m'), block('system', 900, '5m'), block('user', 5)], 1024);
    assert.equal(usage.write5mTokens, 1200);
    assert.equal(usage.uncachedTokens, 5);
  });

  test('writes split into 1h and 5m by the breakpoint covering each segment', () => {
    const clock = createManualClock();
    const cache = new BreakpointCache(clock);
    const blocks = [block('tools', 1200, '1h'), block('system', 1300, '5m'), block('user', 10)];
    const first = cache.apply('ns', blocks, 1024);
    assert.deepEqual([first.write1hTokens, first.write5mTokens, first.readTokens], [1200, 1300, 0]);
    clock.advance(6 * MINUTE);
    const second = cache.apply('ns', blocks, 1024);
    assert.deepEqual([second.write1hTokens, second.write5mTokens, second.readTokens], [0, 1300, 1200]);
  });

  test('5m entries expire, reads refresh them', () => {
    const clock = createManualClock();
    const cache = new BreakpointCache(clock);
    const blocks = [block('system', 2000, '5m'), block('user', 1)];
    cache.apply('ns', blocks, 1024);
    clock.advance(4 * MINUTE);
    assert.equal(cache.apply('ns', blocks, 1024).readTokens, 2000);
    clock.advance(4 * MINUTE);
    assert.equal(cache.apply('ns', blocks, 1024).readTokens, 2000, 'refreshed at minute 4, alive at minute 8');
    clock.advance(5 * MINUTE + 1);
    const expired = cache.apply('ns', blocks, 1024);
    assert.equal(expired.readTokens, 0);
    assert.equal(expired.write5mTokens, 2000);
  });

  test('a moved breakpoint finds the earlier entry within 20 blocks, not beyond', () => {
    const cache = new BreakpointCache(createManualClock());
    const history = [block('system', 1500, '5m')];
    cache.apply('ns', history, 1024);
    const turns = (count: number) => Array.from({ length: count }, (_, index) => block(`turn-${index}`, 10));
    const near = [block('system', 1500), ...turns(18), { ...block('last', 10), breakpoint: '5m' as const }];
    const nearUsage = cache.apply('ns', near, 1024);
    assert.equal(nearUsage.readTokens, 1500, 'hit 19 blocks back from the breakpoint');
    assert.equal(nearUsage.write5mTokens, 190);

    const fresh = new BreakpointCache(createManualClock());
    fresh.apply('ns', history, 1024);
    const far = [block('system', 1500), ...turns(19), { ...block('last', 10), breakpoint: '5m' as const }];
    assert.equal(fresh.apply('ns', far, 1024).readTokens, 0, 'the entry sits 21 blocks back: out of reach');
  });

  test('a changed earlier block invalidates the prefix after it', () => {
    const cache = new BreakpointCache(createManualClock());
    cache.apply('ns', [block('tools-v1', 500), block('system', 1500, '5m')], 1024);
    assert.equal(cache.apply('ns', [block('tools-v2', 500), block('system', 1500, '5m')], 1024).readTokens, 0);
  });

  test('breakpointProblem rejects more than four breakpoints and 1h after 5m', () => {
    const four = ['a', 'b', 'c', 'd'].map((name) => block(name, 1, '5m'));
    assert.equal(breakpointProblem(four), undefined);
    assert.match(breakpointProblem([...four, block('e', 1, '5m')]) ?? '', /maximum of 4 .* Found 5/);
    assert.match(breakpointProblem([block('a', 1, '5m'), block('b', 1, '1h')]) ?? '', /1h/);
    assert.equal(breakpointProblem([block('a', 1, '1h'), block('b', 1, '5m')]), undefined);
  });
});

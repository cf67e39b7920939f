import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promptCacheConfigSchema } from '../../config/prompt-cache-config.ts';
import type { Usage } from '../../core/usage.ts';
import { createPricer } from '../../pricing/pricer.ts';
import type { Operation, ParsedCall } from '../../providers/provider.ts';
import type { CallContext } from '../context.ts';
import { createPromptCacheStage, type PromptCacheStage } from './prompt-cache-stage.ts';

const directories: string[] = [];
after(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

const MESSAGES: Operation = { provider: 'anthropic', endpoint: 'messages', upstreamPath: '/v1/messages', billable: true };
const CHAT: Operation = { provider: 'openai', endpoint: 'chat.completions', upstreamPath: '/chat/completions', billable: true };
const SYSTEM = Array.from({ length: 250 }, (_, index) => `Policy ${index}: answer from the knowledge base and cite the article.`).join('\n');
const TOOL = (name: string) => ({ name, description: `${name}: ${SYSTEM.slice(0, 2000)}`, input_schema: { type: 'object', properties: {} } });

function stage(mode: 'observe' | 'auto', clock: { now: number }, extra: Record<string, unknown> = {}): PromptCacheStage {
  const dataDir = mkdtempSync(join(tmpdir(), 'costgate-prompt-cache-'));
  directories.push(dataDir);
  const config = promptCacheConfigSchema.parse({ default: { mode }, ...extra });
  return createPromptCacheStage({ config, pricer: createPricer(), dataDir, now: () => clock.now });
}

function context(operation: Operation, body: Record<string, unknown>, feature = 'support'): CallContext {
  const call: ParsedCall = { operation, body, rawBody: Buffer.from(JSON.stringify(body)), model: String(body.model), stream: false, headers: {} };
  return {
    requestId: 'r',
    receivedAt: 0,
    startedAt: 0,
    adapter: undefined as never,
    call,
    signal: new AbortController().signal,
    sink: undefined as never,
    attribution: { feature, tags: {} },
    bodyChanged: false,
    result: undefined,
    facts: undefined,
    firstByteAt: undefined,
    cost: undefined,
    levers: [],
    event: undefined,
  };
}

/** Runs the stage with a fake upstream that answers with this usage. */
async function call(planner: PromptCacheStage, target: CallContext, usage: Usage = { input: { total: 4000, noCache: 4000 }, output: { total: 5 } }) {
  await planner.run(target, async () => {
    target.facts = { usage, servedModel: undefined, stopReason: 'end_turn', errorType: undefined };
  });
  return target;
}

function markers(body: Record<string, unknown>): Array<[string, unknown]> {
  const found: Array<[string, unknown]> = [];
  const visit = (value: unknown, path: string) => {
    if (Array.isArray(value)) value.forEach((item, index) => visit(item, `${path}[${index}]`));
    else if (value && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (key === 'cache_control' && path !== '') found.push([path, item]);
        else visit(item, `${path}.${key}`);
      }
    }
  };
  visit(body, '');
  return found;
}

const request = (question: string, extra: Record<string, unknown> = {}) => ({
  model: 'claude-sonnet-4-5',
  max_tokens: 50,
  system: SYSTEM,
  messages: [{ role: 'user', content: question }],
  ...extra,
});

test('auto: after the prefix recurs, a breakpoint is added at the end of the system prompt', async () => {
  const clock = { now: 0 };
  const planner = stage('auto', clock);
  const first = await call(planner, context(MESSAGES, request('one')));
  assert.equal(first.bodyChanged, false, 'no evidence yet: nothing added');
  clock.now += 10_000;
  const second = await call(planner, context(MESSAGES, request('two')));
  assert.equal(second.bodyChanged, true);
  assert.deepEqual(markers(second.call.body ?? {}), [['.system[0]', { type: 'ephemeral' }]]);
  assert.equal(second.levers[0]?.lever, 'prompt_cache');
});

test('observe: the request is not changed, the plan is recorded with a zero saving', async () => {
  const clock = { now: 0 };
  const planner = stage('observe', clock);
  for (let index = 0; index < 3; index += 1) {
    const body = request(`q${index}`);
    const original = JSON.stringify(body);
    const target = await call(planner, context(MESSAGES, body));
    assert.equal(target.bodyChanged, false);
    assert.equal(JSON.stringify(target.call.body), original);
    if (index > 0) {
      assert.equal(target.levers[0]?.saving, 0n);
      assert.equal(target.levers[0]?.detail?.mode, 'observe');
    }
    clock.now += 10_000;
  }
});

test('client markers are never moved or removed, and the total stays at most 4 with 1h first', async () => {
  const clock = { now: 0 };
  const planner = stage('auto', clock);
  const body = () => ({
    model: 'claude-sonnet-4-5',
    max_tokens: 50,
    tools: [TOOL('a'), { ...TOOL('b'), cache_control: { type: 'ephemeral', ttl: '1h' } }, TOOL('c')],
    system: [{ type: 'text', text: SYSTEM }],
    messages: [{ role: 'user', content: [{ type: 'text', text: SYSTEM.slice(0, 5000), cache_control: { type: 'ephemeral' } }, { type: 'text', text: 'question' }] }],
  });
  let last: CallContext | undefined;
  for (let index = 0; index < 4; index += 1) {
    last = await call(planner, context(MESSAGES, body()));
    clock.now += 20_000;
  }
  const sent = markers(last?.call.body ?? {});
  assert.ok(sent.some(([path, marker]) => path === '.tools[1]' && JSON.stringify(marker) === '{"type":"ephemeral","ttl":"1h"}'));
  assert.ok(sent.some(([path, marker]) => path === '.messages[0].content[0]' && JSON.stringify(marker) === '{"type":"ephemeral"}'));
  assert.ok(sent.length <= 4, `${sent.length} markers`);
  const ttls = sent.map(([, marker]) => (marker as { ttl?: string }).ttl ?? '5m');
  assert.ok(ttls.indexOf('5m') === -1 || ttls.lastIndexOf('1h') < ttls.indexOf('5m'), `order ${ttls.join(',')}`);
});

test('a request with top-level automatic cache_control is left alone', async () => {
  const clock = { now: 0 };
  const planner = stage('auto', clock);
  for (let index = 0; index < 3; index += 1) {
    const target = await call(planner, context(MESSAGES, request(`q${index}`, { cache_control: { type: 'ephemeral' } })));
    assert.equal(target.bodyChanged, false);
    assert.equal(target.levers.length, 0);
    clock.now += 10_000;
  }
});

test('the TTL follows the measured interval: every 20 minutes -> 1h, every 10 seconds -> 5m', async () => {
  for (const [interval, expected] of [[20 * 60_000, '1h'], [10_000, '5m']] as const) {
    const clock = { now: 0 };
    const planner = stage('auto', clock);
    let ttl: unknown;
    for (let index = 0; index < 6; index += 1) {
      const target = await call(planner, context(MESSAGES, request(`q${index}`), `feature-${interval}`));
      const breakpoints = target.levers[0]?.detail?.breakpoints as Array<{ ttl: string }> | undefined;
      if (breakpoints?.[0]) ttl = breakpoints[0].ttl;
      clock.now += interval;
    }
    assert.equal(ttl, expected, `interval ${interval} ms`);
  }
});

test('a prefix that never recurs gets no breakpoint', async () => {
  const clock = { now: 0 };
  const planner = stage('auto', clock);
  for (let index = 0; index < 8; index += 1) {
    const target = await call(planner, context(MESSAGES, request('q', { system: `Now: ${index}\n${SYSTEM}` })));
    assert.equal(target.bodyChanged, false);
    clock.now += 5_000;
  }
});

test('back-off: a feature whose premium exceeded its savings over the last day gets no breakpoints', async () => {
  const clock = { now: 0 };
  const planner = stage('auto', clock);
  planner.statistics.account('support', 0, 10_000_000_000n, 0n);
  clock.now = 3 * 3_600_000;
  await call(planner, context(MESSAGES, request('a')));
  clock.now += 10_000;
  const target = await call(planner, context(MESSAGES, request('b')));
  assert.equal(target.bodyChanged, false);
  assert.equal(target.levers[0]?.detail?.mode, 'backed-off');
});

test('OpenAI: prompt_cache_key from the feature and the stable prefix; a client key is kept', async () => {
  const clock = { now: 0 };
  const planner = stage('auto', clock);
  const body = (key?: string) => ({ model: 'gpt-4.1', messages: [{ role: 'system', content: SYSTEM }, { role: 'user', content: 'hi' }], ...(key ? { prompt_cache_key: key } : {}) });
  const first = await call(planner, context(CHAT, body()));
  const second = await call(planner, context(CHAT, body()));
  const key = first.call.body?.prompt_cache_key;
  assert.match(String(key), /^costgate:support:[A-Za-z0-9_-]{12}$/);
  assert.equal(second.call.body?.prompt_cache_key, key, 'same prefix, same key');
  const own = await call(planner, context(CHAT, body('mine')));
  assert.equal(own.call.body?.prompt_cache_key, 'mine');
  assert.equal(own.bodyChanged, false);
});

test('statistics survive a restart through the state file', async () => {
  const clock = { now: 0 };
  const dataDir = mkdtempSync(join(tmpdir(), 'costgate-prompt-cache-'));
  directories.push(dataDir);
  const config = promptCacheConfigSchema.parse({ default: { mode: 'auto' } });
  const planner = createPromptCacheStage({ config, pricer: createPricer(), dataDir, now: () => clock.now });
  await call(planner, context(MESSAGES, request('one')));
  await planner.close();
  clock.now += 10_000;
  const restarted = createPromptCacheStage({ config, pricer: createPricer(), dataDir, now: () => clock.now });
  const target = await call(restarted, context(MESSAGES, request('two')));
  assert.equal(target.bodyChanged, true, 'the recurrence is recognized across the restart');
  await restarted.close();
});

test('back-off stops new writes but keeps reading entries that are already cached', async () => {
  const clock = { now: 0 };
  const planner = stage('auto', clock);
  await call(planner, context(MESSAGES, request('a')));
  clock.now += 10_000;
  const written = await call(planner, context(MESSAGES, request('b')));
  assert.deepEqual(markers(written.call.body ?? {}), [['.system[0]', { type: 'ephemeral' }]]);
  // The day's balance turns negative (a premium paid two hours ago, nothing earned).
  planner.statistics.account('support', -2 * 3_600_000, 10_000_000_000n, 0n);
  clock.now += 10_000;
  const conversation = request('c', {
    messages: [
      { role: 'user', content: 'c' },
      { role: 'assistant', content: 'answer' },
      { role: 'user', content: 'd' },
    ],
  });
  const reading = await call(planner, context(MESSAGES, conversation));
  assert.equal(reading.levers[0]?.detail?.mode, 'backed-off');
  assert.deepEqual(markers(reading.call.body ?? {}), [['.system[0]', { type: 'ephemeral' }]], 'the live system entry is read; no new history or tail write');
  const breakpoints = reading.levers[0]?.detail?.breakpoints as Array<{ live: boolean }>;
  assert.ok(breakpoints.every((breakpoint) => breakpoint.live));
});

test("reads reported in the provider's own token counts still confirm the entry (counts scaled by the prompt totals)", async () => {
  const clock = { now: 0 };
  const planner = stage('auto', clock);
  const system = planner.tokens.exact(SYSTEM);
  const question = planner.tokens.exact('q');
  // Claude's tokenizer counts 20% more than the planner's o200k here.
  const ratio = 1.2;
  const total = Math.round((system + question) * ratio);
  const provider = (read: number, write: number): Usage => ({
    input: { total, noCache: total - read - write, cacheRead: read, cacheWrite5m: write, cacheWrite1h: 0 },
    output: { total: 5 },
  });
  // One-token questions, each new.
  await call(planner, context(MESSAGES, request('q')), provider(0, 0));
  clock.now += 10_000;
  await call(planner, context(MESSAGES, request('r')), provider(0, Math.round(system * ratio)));
  clock.now += 10_000;
  // The client's own marker on its question reads the system entry through the lookback: the read
  // does not sit on a breakpoint, so only the token count tells which entry it was.
  const clientMarked = request('s', { messages: [{ role: 'user', content: [{ type: 'text', text: 's', cache_control: { type: 'ephemeral' } }] }] });
  await call(planner, context(MESSAGES, clientMarked), provider(Math.round(system * ratio), 0));
  clock.now += 10_000;
  const next = await call(planner, context(MESSAGES, request('t')), provider(Math.round(system * ratio), 0));
  const breakpoints = next.levers[0]?.detail?.breakpoints as Array<{ position: string; live: boolean }>;
  assert.equal(planner.tokens.exact('t'), question);
  assert.deepEqual(breakpoints.find((breakpoint) => breakpoint.position === 'system')?.live, true, 'still believed alive after the read');
});

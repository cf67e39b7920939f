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

// OpenAI gpt-5.6+ explicit breakpoints, planned from the same evidence as Anthropic's.
const directories: string[] = [];
after(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

const CHAT: Operation = { provider: 'openai', endpoint: 'chat.completions', upstreamPath: '/chat/completions', billable: true };
const RESPONSES: Operation = { provider: 'openai', endpoint: 'responses', upstreamPath: '/responses', billable: true };
const SYSTEM = Array.from({ length: 250 }, (_, index) => `Policy ${index}: answer from the knowledge base and cite the article.`).join('\n');
const QUESTION = (index: number) => `Question ${index}: ${'details of the case '.repeat(80)}${index}`;

function stage(mode: 'observe' | 'auto', clock: { now: number }): PromptCacheStage {
  const dataDir = mkdtempSync(join(tmpdir(), 'costgate-prompt-cache-openai-'));
  directories.push(dataDir);
  // The fake upstream below reports no cache reads, which back-off would rightly read as a loss.
  const config = promptCacheConfigSchema.parse({ default: { mode, backOff: false } });
  return createPromptCacheStage({ config, pricer: createPricer(), dataDir, now: () => clock.now });
}

function context(operation: Operation, body: Record<string, unknown>, feature = 'qa'): CallContext {
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

async function call(planner: PromptCacheStage, target: CallContext, usage: Usage = { input: { total: 3500, noCache: 3500, cacheRead: 0, cacheWrite5m: 0 }, output: { total: 5 } }) {
  await planner.run(target, async () => {
    target.facts = { usage, servedModel: undefined, stopReason: 'stop', errorType: undefined };
  });
  return target;
}

/** Paths of the content parts that carry a prompt_cache_breakpoint. */
function markers(body: Record<string, unknown>): string[] {
  const found: string[] = [];
  const visit = (value: unknown, path: string) => {
    if (Array.isArray(value)) value.forEach((item, index) => visit(item, `${path}[${index}]`));
    else if (value && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (key === 'prompt_cache_breakpoint') found.push(path);
        else visit(item, `${path}.${key}`);
      }
    }
  };
  visit(body, '');
  return found;
}

const oneShot = (index: number, model = 'gpt-5.6-sol', extra: Record<string, unknown> = {}) => ({
  model,
  messages: [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: QUESTION(index) },
  ],
  ...extra,
});

test('one-shot traffic on gpt-5.6: implicit until questions are known not to come back, then explicit mode with the shared prompt marked', async () => {
  const clock = { now: 0 };
  const planner = stage('auto', clock);
  const modes: unknown[] = [];
  let last: CallContext | undefined;
  for (let index = 0; index < 12; index += 1) {
    last = await call(planner, context(CHAT, oneShot(index)));
    modes.push(last.levers[0]?.detail?.cacheMode);
    clock.now += 2 * 60_000;
  }
  // Without evidence the provider's default stays; one call carries the breakpoint in implicit mode
  // (the bridge), so that its exact entry exists when explicit mode starts.
  assert.equal(modes[0], 'implicit');
  assert.ok(modes.indexOf('bridge') > 0 && modes.indexOf('bridge') < modes.indexOf('explicit'), modes.join(','));
  const body = last?.call.body ?? {};
  assert.deepEqual(body.prompt_cache_options, { mode: 'explicit' });
  assert.deepEqual(markers(body), ['.messages[0].content[0]'], 'the system prompt only');
  assert.deepEqual((body.messages as Array<{ content: unknown }>)[0]?.content, [{ type: 'text', text: SYSTEM, prompt_cache_breakpoint: { mode: 'explicit' } }]);
  assert.equal(typeof (body.messages as Array<{ content: unknown }>)[1]?.content, 'string', 'the question is left as sent');
  const detail = last?.levers[0]?.detail;
  assert.equal(detail?.cacheMode, 'explicit');
  assert.equal(detail?.baseline, 'implicit');
  assert.ok(Number(detail?.explicitValueTokens) > Number(detail?.implicitValueTokens));
  assert.deepEqual((detail?.breakpoints as Array<{ ttl: string }>).map((breakpoint) => breakpoint.ttl), ['30m']);
  assert.equal(last?.levers[0]?.estimated, true);
});

test('a conversation on gpt-5.6: the previous turn is read through a marker on its exact end', async () => {
  const clock = { now: 0 };
  const planner = stage('auto', clock);
  let last: CallContext | undefined;
  // Several conversations, so the feature learns that its conversations continue.
  for (let session = 0; session < 6; session += 1) {
    const history: Array<{ role: string; content: string }> = [{ role: 'system', content: SYSTEM }];
    for (let turn = 0; turn < 3; turn += 1) {
      history.push({ role: 'user', content: `${QUESTION(session * 10 + turn)}` });
      last = await call(planner, context(CHAT, { model: 'gpt-5.6-terra', messages: structuredClone(history) }, 'chat'));
      history.push({ role: 'assistant', content: `Answer ${session}-${turn}: ${'the account is active '.repeat(20)}` });
      clock.now += 30_000;
    }
  }
  const body = last?.call.body ?? {};
  assert.deepEqual(body.prompt_cache_options, { mode: 'explicit' });
  const paths = markers(body);
  // The last turn reads the turn before (its user message ended the previous prompt) and writes its own end.
  assert.ok(paths.includes('.messages[3].content[0]'), paths.join(' '));
  assert.ok(paths.includes('.messages[5].content[0]'), paths.join(' '));
  assert.ok(paths.length <= 4);
  const live = (last?.levers[0]?.detail?.breakpoints as Array<{ block: number; live: boolean }>).find((breakpoint) => breakpoint.live);
  assert.ok(live, 'a marker on the live entry');
});

test('Responses: instructions no marker can end are reused, so implicit caching is kept', async () => {
  const clock = { now: 0 };
  const planner = stage('auto', clock);
  let last: CallContext | undefined;
  for (let index = 0; index < 10; index += 1) {
    last = await call(planner, context(RESPONSES, { model: 'gpt-5.6-sol', instructions: SYSTEM, input: QUESTION(index) }, 'agent'));
    clock.now += 20_000;
  }
  assert.equal(last?.call.body?.prompt_cache_options, undefined);
  assert.deepEqual(markers(last?.call.body ?? {}), []);
  assert.equal(last?.levers[0]?.detail?.cacheMode, 'implicit');
  assert.equal(last?.levers[0]?.saving, 0n);
});

test("a client's own caching choice is kept: implicit mode or markers left alone, explicit mode added to", async () => {
  const clock = { now: 0 };
  const planner = stage('auto', clock);
  const clientMarked = (index: number) => ({
    model: 'gpt-5.6-sol',
    messages: [
      { role: 'system', content: [{ type: 'text', text: SYSTEM, prompt_cache_breakpoint: { mode: 'explicit' } }] },
      { role: 'user', content: QUESTION(index) },
    ],
  });
  for (let index = 0; index < 5; index += 1) {
    const implicit = await call(planner, context(CHAT, oneShot(index, 'gpt-5.6-sol', { prompt_cache_options: { mode: 'implicit' } }), 'implicit'));
    assert.deepEqual(implicit.call.body?.prompt_cache_options, { mode: 'implicit' });
    assert.deepEqual(markers(implicit.call.body ?? {}), []);
    const marked = await call(planner, context(CHAT, clientMarked(index), 'marked'));
    assert.equal(marked.call.body?.prompt_cache_options, undefined);
    assert.deepEqual(markers(marked.call.body ?? {}), ['.messages[0].content[0]']);
    clock.now += 20_000;
  }
  // Explicit mode chosen by the client, with a marker on a prefix that keeps coming back: kept, and
  // the planner adds only within the remaining budget.
  let last: CallContext | undefined;
  for (let index = 0; index < 6; index += 1) {
    const body = {
      model: 'gpt-5.6-sol',
      prompt_cache_options: { mode: 'explicit', ttl: '30m' },
      messages: [
        { role: 'system', content: SYSTEM },
        { role: 'user', content: [{ type: 'text', text: `${SYSTEM.slice(0, 6000)} shared context` }, { type: 'text', text: QUESTION(index), prompt_cache_breakpoint: { mode: 'explicit' } }] },
      ],
    };
    last = await call(planner, context(CHAT, body, 'explicit-client'));
    clock.now += 20_000;
  }
  const body = last?.call.body ?? {};
  assert.deepEqual(body.prompt_cache_options, { mode: 'explicit', ttl: '30m' });
  const paths = markers(body);
  assert.ok(paths.includes('.messages[1].content[1]'), 'the client marker stays');
  assert.ok(paths.length > 1 && paths.length <= 4, paths.join(' '));
});

test('models before gpt-5.6 never get markers or prompt_cache_options; observe changes no byte', async () => {
  const clock = { now: 0 };
  const auto = stage('auto', clock);
  const observe = stage('observe', clock);
  for (let index = 0; index < 6; index += 1) {
    const old = await call(auto, context(CHAT, oneShot(index, 'gpt-4.1')));
    assert.equal(old.call.body?.prompt_cache_options, undefined);
    assert.deepEqual(markers(old.call.body ?? {}), []);
    const body = oneShot(index);
    const original = JSON.stringify(body);
    const watched = await call(observe, context(CHAT, body));
    assert.equal(watched.bodyChanged, false);
    assert.equal(JSON.stringify(watched.call.body), original);
    if (index > 3) assert.equal(watched.levers[0]?.detail?.mode, 'observe');
    clock.now += 20_000;
  }
});

test('openaiExplicitBreakpoints: false leaves gpt-5.6 requests to implicit caching', async () => {
  const clock = { now: 0 };
  const dataDir = mkdtempSync(join(tmpdir(), 'costgate-prompt-cache-openai-'));
  directories.push(dataDir);
  const config = promptCacheConfigSchema.parse({ default: { mode: 'auto', openaiExplicitBreakpoints: false } });
  const planner = createPromptCacheStage({ config, pricer: createPricer(), dataDir, now: () => clock.now });
  for (let index = 0; index < 12; index += 1) {
    const target = await call(planner, context(CHAT, oneShot(index)));
    assert.equal(target.call.body?.prompt_cache_options, undefined);
    assert.deepEqual(markers(target.call.body ?? {}), []);
    assert.equal(target.levers.length, 0);
    clock.now += 2 * 60_000;
  }
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseConfig } from '../../config/load-config.ts';
import type { CallContext } from '../context.ts';
import { createResponseCacheStage } from '../response-cache/response-cache-stage.ts';
import { ResponseCache } from '../response-cache/response-cache.ts';
import { minimumObservations } from './bounded-threshold.ts';
import { GloveEmbedder } from './glove-embedder.ts';
import { SemanticCache } from './semantic-cache.ts';
import { createSemanticCacheStage } from './semantic-cache-stage.ts';
import { answerText, chatContext, MemorySink, collectingSink, fakeUpstream, pricer, runPipeline, type ChatRequest } from './testing/stage-harness.ts';
import { seededRandom, writeTinyGlove } from './testing/tiny-glove.ts';
import { PartitionedVectorIndex } from './vector-index.ts';

const GLOVE = writeTinyGlove();
const REFUND_ANSWER = 'Refunds are issued within 30 days.';
const PARAPHRASES = [
  'what is the refund policy',
  'tell me the refund policy',
  'tell me about your refund policy',
  'explain your refund policy',
  'explain the refund policy please',
  'please explain the refund policy',
  'what is the refund policy please',
  'the refund policy please',
  'tell me about the refund policy please',
  'explain refund policy',
  'what is your refund policy please',
  'tell me your refund policy please',
  'please tell me about the refund policy',
  'what about the refund policy',
  'refund policy please',
  'explain me the refund policy',
  'what about your refund policy',
  'please what is the refund policy',
];

function answer(prompt: string): string {
  if (prompt.includes('refund')) return REFUND_ANSWER;
  if (prompt.includes('weather')) return prompt.includes('today') ? 'Sunny.' : 'Rain expected in London.';
  if (prompt.includes('alarm')) return prompt.includes(' off') ? 'Hold the button for three seconds.' : 'Press the button once.';
  return `An answer to: ${prompt}`;
}

function setup(policy: Record<string, unknown> = {}) {
  const config = parseConfig({
    responseCache: {
      persist: false,
      default: { semantic: 'on', errorBound: 0.2, shadowRate: 0, minSimilarity: 0, ...policy },
      semantic: { embedder: { type: 'glove', path: GLOVE } },
    },
  }).responseCache;
  const cache = new ResponseCache(config, undefined);
  const semantic = new SemanticCache(cache, new GloveEmbedder(GLOVE), new PartitionedVectorIndex(undefined), config.semantic, undefined, () => {}, seededRandom(3));
  const upstream = fakeUpstream(answer);
  const usage = collectingSink();
  const pipeline = runPipeline([createResponseCacheStage(cache, pricer), createSemanticCacheStage({ semantic, pricer, usage }), upstream]);
  const ask = async (request: ChatRequest): Promise<CallContext> => {
    const context = await pipeline(chatContext(request));
    await semantic.idle();
    return context;
  };
  return { ask, upstream, semantic, usage };
}

function semanticDetail(context: CallContext): Record<string, unknown> | undefined {
  return context.levers.find((effect) => effect.lever === 'response_cache' && effect.detail?.kind === 'semantic')?.detail;
}

/** Asks the base question, then every paraphrase; all answers agree, so the matcher learns to trust them. */
async function teach(ask: (request: ChatRequest) => Promise<CallContext>, extra: Partial<ChatRequest> = {}): Promise<CallContext[]> {
  const contexts = [await ask({ prompt: 'what is your refund policy', ...extra })];
  for (const prompt of PARAPHRASES) contexts.push(await ask({ prompt, ...extra }));
  return contexts;
}

describe('semantic cache stage', () => {
  test('serves nothing until feedback shows the bound holds, then serves a new paraphrase', async () => {
    const { ask, upstream, semantic } = setup();
    const learning = await teach(ask);
    // Nothing is served before 14 checks (the fewest that can show a 20% bound at 95% confidence).
    const needed = minimumObservations(0.2, 0.95);
    assert.equal(needed, 14);
    assert.ok(learning.slice(0, needed + 1).every((context) => context.cacheStatus === 'miss'), 'no hit while learning');
    assert.equal(semanticDetail(learning[1] as CallContext)?.decision, 'explore');
    const calibrator = [...semantic.matcher.allCalibrators()][0]?.[1];
    assert.ok(calibrator && Number.isFinite(calibrator.threshold), 'a threshold was learned');
    const callsBefore = upstream.calls;
    const hit = await ask({ prompt: 'please explain your refund policy' });
    assert.equal(hit.cacheStatus, 'semantic_hit');
    assert.equal(upstream.calls, callsBefore, 'no upstream call for the hit');
    assert.equal(answerText(hit), REFUND_ANSWER);
    assert.equal(hit.result?.headers['x-costgate-cache'], 'semantic_hit');
    const lever = hit.levers.find((effect) => effect.lever === 'response_cache');
    assert.ok(lever && lever.saving > 0n && lever.estimated);
    assert.equal(typeof lever.detail?.similarity, 'number');
    assert.ok((lever.detail?.similarity as number) >= (lever.detail?.threshold as number));
  });

  test('a streamed question is answered with the recorded stream of a paraphrase', async () => {
    const { ask, upstream } = setup();
    await teach(ask, { stream: true });
    const calls = upstream.calls;
    const hit = await ask({ prompt: 'please explain your refund policy', stream: true });
    assert.equal(hit.cacheStatus, 'semantic_hit');
    assert.equal(upstream.calls, calls);
    const sink = hit.sink as MemorySink;
    assert.equal(sink.headers['x-costgate-cache'], 'semantic_hit');
    const text = Buffer.concat(sink.chunks).toString('utf8');
    assert.ok(text.includes(JSON.stringify(REFUND_ANSWER).slice(1, -1)) && text.endsWith('data: [DONE]\n\n'));
    const nonStream = await ask({ prompt: 'please explain your refund policy' });
    assert.notEqual(nonStream.cacheStatus, 'semantic_hit', 'streams and non-streams are separate partitions');
  });

  test('shadow mode learns the same way but never serves a semantic hit', async () => {
    const { ask, upstream } = setup({ semantic: 'shadow' });
    const contexts = await teach(ask);
    const callsBefore = upstream.calls;
    contexts.push(await ask({ prompt: 'please explain your refund policy' }));
    contexts.push(await ask({ prompt: 'what is your refund policy' }));
    assert.equal(upstream.calls, callsBefore + 2, 'every call went upstream');
    assert.ok(contexts.every((context) => context.cacheStatus !== 'semantic_hit'));
    assert.equal(contexts.at(-1)?.cacheStatus, 'shadow', 'a would-be hit is recorded as shadow');
    assert.equal(semanticDetail(contexts.at(-1) as CallContext)?.decision, 'check');
  });

  test('tenants never see each other: another key or another customer finds no candidate', async () => {
    const { ask, upstream } = setup();
    await teach(ask, { apiKey: 'sk-tenant-a', customer: 'acme' });
    const calls = upstream.calls;
    const otherKey = await ask({ prompt: 'what is your refund policy', apiKey: 'sk-tenant-b', customer: 'acme' });
    const otherCustomer = await ask({ prompt: 'what is your refund policy', apiKey: 'sk-tenant-a', customer: 'globex' });
    assert.equal(upstream.calls, calls + 2);
    for (const context of [otherKey, otherCustomer]) {
      assert.equal(context.cacheStatus, 'miss');
      assert.equal(semanticDetail(context)?.decision, 'none');
      assert.equal(semanticDetail(context)?.similarity, undefined, 'not even a candidate from the other tenant');
    }
    const same = await ask({ prompt: 'what is your refund policy', apiKey: 'sk-tenant-a', customer: 'acme' });
    assert.equal(same.cacheStatus, 'semantic_hit');
  });

  test('a different system prompt is a different partition', async () => {
    const { ask } = setup();
    await teach(ask, { system: 'You are the support bot of a shop.' });
    const other = await ask({ prompt: 'what is your refund policy', system: 'You are the support bot of an airline.' });
    assert.equal(semanticDetail(other)?.decision, 'none');
  });

  test('user-specific, multi-turn, hot-temperature questions are neither matched nor stored', async () => {
    const { ask, upstream } = setup();
    await teach(ask);
    const cases: Array<[ChatRequest, string]> = [
      [{ prompt: 'what is the refund policy for my email bob@example.com' }, 'user_specific'],
      [{ prompt: 'my name is Alice what is the refund policy' }, 'user_specific'],
      [{ prompt: 'what is the refund policy for order 88231945' }, 'user_specific'],
      [{ prompt: 'what is the refund policy for $120' }, 'user_specific'],
      [{ prompt: 'what is the refund policy', history: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] }, 'multi_turn'],
      [{ prompt: 'what is the refund policy', temperature: 1.5 }, 'temperature'],
    ];
    for (const [request, reason] of cases) {
      const calls = upstream.calls;
      const context = await ask(request);
      assert.equal(upstream.calls, calls + 1, `${request.prompt}: went upstream`);
      assert.equal(semanticDetail(context)?.skipped, reason, request.prompt);
      assert.notEqual(context.cacheStatus, 'semantic_hit');
      assert.equal(context.responseCache?.semantic, undefined, 'not stored for matching');
    }
  });

  test('the guard turns down a close match that flips on/off, a number or a negation', async () => {
    const { ask, upstream } = setup({ minSimilarity: -1 });
    await ask({ prompt: 'how do i turn on the alarm' });
    await ask({ prompt: 'the refund policy for 30 days' });
    await ask({ prompt: 'can i return an item' });
    const cases: Array<[string, string]> = [
      ['how do i turn off the alarm', 'antonym'],
      ['the refund policy for 14 days', 'number'],
      ['can i not return an item', 'negation'],
    ];
    for (const [prompt, reason] of cases) {
      const calls = upstream.calls;
      const context = await ask({ prompt });
      assert.equal(upstream.calls, calls + 1);
      assert.equal(semanticDetail(context)?.guardRejected, reason, prompt);
    }
  });

  test('a wrong answer raises that entry above the similarity it failed at', async () => {
    const { ask, semantic } = setup();
    await ask({ prompt: 'what is the weather in paris today' });
    const context = await ask({ prompt: 'what is the weather in paris' });
    assert.equal(semanticDetail(context)?.decision, 'explore');
    const entry = [...semantic.matcher.entries.values()].find((item) => item.prompt === 'what is the weather in paris today');
    assert.ok(entry);
    // The fake upstream answers each weather question differently: the check found them different.
    assert.equal(Math.round(entry.learning.maxWrong * 10_000) / 10_000, semanticDetail(context)?.similarity);
    assert.ok(entry.learning.threshold(0) > entry.learning.maxWrong);
  });
});

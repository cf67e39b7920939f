import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import OpenAI from 'openai';
import type { UsageEvent } from '../src/core/usage-event.ts';
import { ledgerRows, startStack, type Stack } from './support/stack.ts';

/**
 * The truncation guard against real traffic shapes: runaway loops cut by a cap (not truncations of
 * wanted answers), caps brought back down once the evidence allows, learned thinking budgets, and
 * caps applied where the client left max_tokens unset or at the model maximum.
 */

const WARM_UP = 20;
// A 5% threshold keeps the number of calls each guard decision needs small (6 cuts raise; 200 calls step back).
const THRESHOLD = 0.05;

let stack: Stack;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  stack = await startStack({
    outputPolicy: {
      enabled: true,
      holdout: 0,
      truncationThreshold: THRESHOLD,
      default: { maxTokens: 'learned', minSamples: WARM_UP, floor: 16 },
      features: {
        loops: { maxTokens: 200 },
        drift: { maxTokens: 50 },
        agent: { reasoning: { maxThinkingTokens: 'learned' } },
        budget: { maxTokens: 'off', reasoning: { maxThinkingTokens: 2048 } },
      },
    },
  });
  openai = new OpenAI({ apiKey: 'sk-client', baseURL: `${stack.url}/v1`, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: 'sk-ant-client', baseURL: stack.url, maxRetries: 0 });
});
after(() => stack.close());

function headers(feature: string, replyTokens: number, options: { reasoning?: number; loop?: number } = {}): Record<string, string> {
  return {
    'x-costgate-feature': feature,
    'x-emulator-reply-tokens': String(replyTokens),
    ...(options.reasoning !== undefined ? { 'x-emulator-reasoning-tokens': String(options.reasoning) } : {}),
    ...(options.loop !== undefined ? { 'x-emulator-reply-loop': String(options.loop) } : {}),
  };
}

async function row(requestId: string | null): Promise<UsageEvent> {
  assert.ok(requestId);
  const [found] = await ledgerRows(stack, [requestId]);
  assert.ok(found, 'ledger row');
  return found;
}

function detail(event: UsageEvent): Record<string, any> | undefined {
  return event.levers?.find((effect) => effect.lever === 'output_policy')?.detail as Record<string, any> | undefined;
}

async function chat(feature: string, replyTokens: number, options: { loop?: number; maxTokens?: number } = {}) {
  const { data, response } = await openai.chat.completions
    .create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `Question for ${feature}` }], ...(options.maxTokens ? { max_tokens: options.maxTokens } : {}) },
      { headers: headers(feature, replyTokens, options) },
    )
    .withResponse();
  return { data, event: await row(response.headers.get('x-costgate-request-id')) };
}

describe('runaway loops', () => {
  test('a loop cut by the cap is a runaway: recorded, not counted against the threshold, its baseline the client cap', async () => {
    for (let index = 0; index < 12; index += 1) {
      const { data, event } = await chat('loops', 1000, { loop: 9 });
      assert.equal(data.choices[0]?.finish_reason, 'length');
      assert.equal(event.maxTokensSent, 200, 'twelve cuts of loops never raise the cap');
      assert.equal(detail(event)?.['runaway']?.kind, 'repetition');
      assert.equal(detail(event)?.['truncationGuard'], undefined);
    }
    // The loop would have run to the client's own cap.
    const { event } = await chat('loops', 4000, { loop: 9, maxTokens: 3000 });
    assert.equal(detail(event)?.['baselineOutputTokens'], 3000);
    assert.ok((event.levers?.[0]?.saving ?? 0n) > 0n);
  });

  test('loops are recognised in streams too: OpenAI and Anthropic server-sent events, Bedrock event-stream', async () => {
    const { data: stream, response: openAIResponse } = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'stream a loop' }] }, { headers: headers('loops', 1000, { loop: 7 }) })
      .withResponse();
    let finish: string | null | undefined;
    for await (const chunk of stream) finish = chunk.choices[0]?.finish_reason ?? finish;
    assert.equal(finish, 'length');
    const openAIEvent = await row(openAIResponse.headers.get('x-costgate-request-id'));
    assert.equal(detail(openAIEvent)?.['runaway']?.kind, 'repetition');

    const anthropicStream = anthropic.messages.stream(
      { model: 'claude-haiku-4-5', max_tokens: 4000, messages: [{ role: 'user', content: 'stream a loop' }] },
      { headers: headers('loops', 1000, { loop: 11 }) },
    );
    const message = await anthropicStream.finalMessage();
    assert.equal(message.stop_reason, 'max_tokens');
    const { response } = await anthropicStream.withResponse();
    assert.equal(detail(await row(response.headers.get('x-costgate-request-id')))?.['runaway']?.kind, 'repetition');

    const bedrock = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: stack.url, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    let requestId: string | undefined;
    bedrock.middlewareStack.add(
      (next) => async (arguments_) => {
        Object.assign((arguments_.request as { headers: Record<string, string> }).headers, headers('loops', 1000, { loop: 13 }));
        const result = await next(arguments_);
        requestId = (result.response as { headers: Record<string, string> }).headers['x-costgate-request-id'];
        return result;
      },
      { step: 'build' },
    );
    const output = await bedrock.send(new ConverseStreamCommand({ modelId: 'anthropic.claude-haiku-4-5-20251001-v1:0', messages: [{ role: 'user', content: [{ text: 'loop' }] }] }));
    let stopReason: string | undefined;
    for await (const event of output.stream ?? []) stopReason = event.messageStop?.stopReason ?? stopReason;
    assert.equal(stopReason, 'max_tokens');
    assert.equal(detail(await row(requestId ?? null))?.['runaway']?.kind, 'repetition');
    bedrock.destroy();
  });
});

describe('runaways stay out of the learned lengths', () => {
  test("loops the client's own cap stopped during warm-up do not drag the learned cap up to it", async () => {
    // One call in five runs away: far above the 1% a p99 could ignore by itself.
    for (let index = 0; index < WARM_UP + 5; index += 1) {
      const { data } = index % 5 === 4 ? await chat('chatty', 5000, { loop: 9, maxTokens: 2000 }) : await chat('chatty', 40 + index, { maxTokens: 2000 });
      if (index % 5 === 4) assert.equal(data.choices[0]?.finish_reason, 'length');
    }
    const { data, event } = await chat('chatty', 5000, { loop: 9, maxTokens: 2000 });
    const cap = event.maxTokensSent ?? 0;
    assert.ok(cap < 300, `learned from the ordinary answers only: cap ${cap}`);
    assert.equal(data.usage?.completion_tokens, cap);
    assert.equal(detail(event)?.['runaway']?.kind, 'repetition');
    assert.equal(detail(event)?.['baselineOutputTokens'], 2000);
  });
});

describe('the guard raises on real cuts and steps back on evidence', () => {
  test('answers cut short raise the cap at once; once calls show the lower cap would keep under the threshold, it comes back', async () => {
    let raise: Record<string, any> | undefined;
    for (let index = 0; index < 6; index += 1) {
      const { data, event } = await chat('drift', 80);
      assert.equal(data.choices[0]?.finish_reason, 'length');
      assert.equal(detail(event)?.['runaway'], undefined, 'fresh prose is not a loop');
      raise = detail(event)?.['truncationGuard'];
    }
    assert.equal(raise?.['boost'], 2, 'the sixth cut of at least 100 passes 5%');
    const raised = await chat('drift', 80);
    assert.equal(raised.event.maxTokensSent, 100);
    assert.equal(raised.data.choices[0]?.finish_reason, 'stop');

    // Answers are short again: 3.0 / n <= 2.5% after 120 calls with none above the lower cap (50).
    let lowered: Record<string, any> | undefined;
    // The call above (80 tokens under the raised cap) is one the lower cap would have cut: 4.74 / n <= 2.5%
    // needs 190 calls, and a step back is never judged on fewer than 200.
    let calls = 1;
    while (!lowered && calls < 300) {
      const { event } = await chat('drift', 30);
      lowered = detail(event)?.['capLowered'];
      calls += 1;
    }
    assert.equal(calls, 200);
    assert.equal(lowered?.['boost'], 1);
    assert.equal((await chat('drift', 30)).event.maxTokensSent, 50);
  });
});

describe('learned thinking budget', () => {
  const ask = async (reasoning: number, replyTokens = 100) => {
    const { data, response } = await anthropic.messages
      .create(
        { model: 'claude-sonnet-4-5', max_tokens: 20000, thinking: { type: 'enabled', budget_tokens: 16000 }, messages: [{ role: 'user', content: 'Plan the migration' }] },
        { headers: headers('agent', replyTokens, { reasoning }) },
      )
      .withResponse();
    return { data, event: await row(response.headers.get('x-costgate-request-id')) };
  };

  test('the budget comes down to what the feature thinks, stays inside max_tokens, and is raised when thinking fills it', async () => {
    for (let index = 0; index < WARM_UP; index += 1) await ask(1500 + index * 20);
    const { data, event } = await ask(1700);
    const reasoning = detail(event)?.['reasoning'];
    const budget = reasoning?.['learnedBudget'] as number;
    assert.ok(budget > 1880 && budget < 4000, `learned budget ${budget} ${JSON.stringify(detail(event))}`);
    assert.equal(reasoning?.['original'], 'thinking:16000');
    assert.equal(reasoning?.['applied'], `thinking:${budget}`);
    const maxTokens = detail(event)?.['maxTokens'];
    assert.equal(maxTokens?.['reasoningRoom'], budget);
    assert.equal(event.maxTokensSent, budget + maxTokens?.['answerCap']);
    assert.equal(data.stop_reason, 'end_turn', 'the answer is whole');
    assert.equal(data.usage.output_tokens, 1700 + 100);

    // The task changes: thinking fills the budget on every call. Within six such calls it is raised.
    let guard: Record<string, any> | undefined;
    for (let index = 0; index < 6 && !guard; index += 1) guard = detail((await ask(12_000)).event)?.['thinkingGuard'];
    assert.equal(guard?.['boost'], 2);
    // Thinking that fills the budget also teaches it (the budget grew before the raise); after the
    // raise it is at least twice the first, or gone when that passes the client's own 16000.
    const after = detail((await ask(1700)).event)?.['maxTokens']?.['reasoningRoom'] as number;
    assert.ok(after >= budget * 2, `budget ${budget} -> ${after}`);
  });
});

describe('what a lowered thinking budget saved', () => {
  test('only calls that filled the budget saved, each as much as unclamped calls went past it', async () => {
    const ask = async (reasoning: number) => {
      const { data, response } = await anthropic.messages
        .create(
          { model: 'claude-sonnet-4-5', max_tokens: 12000, thinking: { type: 'enabled', budget_tokens: 8000 }, messages: [{ role: 'user', content: 'Review the plan' }] },
          { headers: headers('budget', 50, { reasoning }) },
        )
        .withResponse();
      return { data, event: await row(response.headers.get('x-costgate-request-id')) };
    };
    // The first five calls of the setting go unclamped: the baseline.
    for (const reasoning of [3000, 4000, 5000, 1000, 1500]) assert.equal(detail((await ask(reasoning)).event), undefined);
    const filled = await ask(6000);
    assert.equal(filled.data.usage.output_tokens, 2048 + 50);
    const baseline = detail(filled.event)?.['baselineOutputTokens'] as number;
    // The unclamped calls past 2048 averaged 4000 (to within the sketch's 2% buckets).
    assert.ok(Math.abs(baseline - (4000 + 50)) <= 80, `baseline ${baseline}`);
    assert.ok((filled.event.levers?.[0]?.saving ?? 0n) > 0n);
    const under = await ask(1200);
    assert.equal(detail(under.event)?.['reasoning']?.['applied'], 'thinking:2048');
    assert.equal(detail(under.event)?.['baselineOutputTokens'], undefined, 'a call that thought less than the budget was not changed by it');
    assert.equal(under.event.levers?.[0]?.saving, 0n);
  });
});

describe('caps where the client set none, or the model maximum', () => {
  test('a learned cap applies to calls without max_tokens and with max_tokens at the model maximum', async () => {
    for (let index = 0; index < WARM_UP; index += 1) await chat('plain', 40 + index);
    const unset = await chat('plain', 45);
    assert.equal(detail(unset.event)?.['maxTokens']?.['original'], null);
    assert.ok((unset.event.maxTokensSent ?? Infinity) < 200);
    const atMaximum = await chat('plain', 45, { maxTokens: 16_384 });
    assert.equal(detail(atMaximum.event)?.['maxTokens']?.['original'], 16_384);
    assert.equal(atMaximum.event.maxTokensSent, unset.event.maxTokensSent);
    assert.equal(atMaximum.data.choices[0]?.finish_reason, 'stop');
  });
});

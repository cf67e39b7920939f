import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import OpenAI from 'openai';
import type { UsageEvent } from '../src/core/usage-event.ts';
import { ledgerRows, startStack, type Stack } from './support/stack.ts';

const WARM_UP = 20;
const labelSchema = { name: 'label', schema: { type: 'object', properties: { label: { type: 'string' } }, required: ['label'] } };

let stack: Stack;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  stack = await startStack({
    outputPolicy: {
      enabled: true,
      holdout: 0,
      default: { maxTokens: 'learned', minSamples: WARM_UP, percentile: 0.99, headroom: 1.25, floor: 16 },
      features: {
        classify: { reasoning: { maxEffort: 'none' }, jsonSchema: labelSchema },
        fixed: { maxTokens: 50 },
      },
    },
  });
  openai = new OpenAI({ apiKey: 'sk-client', baseURL: `${stack.url}/v1`, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: 'sk-ant-client', baseURL: stack.url, maxRetries: 0 });
});
after(() => stack.close());

function headers(feature: string, replyTokens: number, reasoningTokens = 0): Record<string, string> {
  return { 'x-costgate-feature': feature, 'x-emulator-reply-tokens': String(replyTokens), 'x-emulator-reasoning-tokens': String(reasoningTokens) };
}

async function row(requestId: string | null): Promise<UsageEvent> {
  assert.ok(requestId);
  const [found] = await ledgerRows(stack, [requestId]);
  assert.ok(found, 'ledger row');
  return found;
}

function policyDetail(event: UsageEvent): Record<string, any> | undefined {
  return event.levers?.find((effect) => effect.lever === 'output_policy')?.detail as Record<string, any> | undefined;
}

async function chat(feature: string, replyTokens: number, extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}, model = 'gpt-4o-mini', reasoning = 0) {
  const { data, response } = await openai.chat.completions
    .create({ model, messages: [{ role: 'user', content: `Question for ${feature}` }], ...extra }, { headers: headers(feature, replyTokens, reasoning) })
    .withResponse();
  return { data, event: await row(response.headers.get('x-costgate-request-id')) };
}

describe('OpenAI', () => {
  test('a learned cap applies after warm-up in max_tokens, cuts a runaway, and the saving is an estimate', async () => {
    for (let index = 0; index < WARM_UP; index += 1) {
      const { event } = await chat('summarize', 40 + index);
      assert.equal(event.levers, undefined, 'no cap while learning');
    }
    const { data, event } = await chat('summarize', 5000);
    const detail = policyDetail(event);
    assert.equal(detail?.['maxTokens']?.field, 'max_tokens');
    assert.equal(detail?.['maxTokens']?.original, null);
    const cap = detail?.['maxTokens']?.applied as number;
    assert.ok(cap >= 59 * 1.25 && cap < 100, `cap ${cap} from p99 of 40..59 with headroom`);
    assert.equal(event.maxTokensSent, cap);
    assert.equal(event.maxTokensRequested, undefined);
    assert.equal(data.choices[0]?.finish_reason, 'length');
    assert.equal(data.usage?.completion_tokens, cap);
    const effect = event.levers?.find((lever) => lever.lever === 'output_policy');
    assert.equal(effect?.estimated, true);
  });

  test("the client's own lower cap is never raised", async () => {
    const { event } = await chat('summarize', 30, { max_tokens: 10 });
    assert.equal(event.maxTokensRequested, 10);
    assert.equal(event.maxTokensSent, 10);
    assert.equal(policyDetail(event), undefined);
  });

  test('reasoning models: max_completion_tokens leaves learned room for reasoning, effort clamped, schema applied', async () => {
    // The first five calls of a clamped setting go untouched (the clamp's baseline), the rest are clamped.
    for (let index = 0; index < WARM_UP; index += 1) {
      const { event } = await chat('classify', 5, { reasoning_effort: 'high' }, 'o4-mini', 400);
      assert.equal(policyDetail(event)?.['reasoning'] === undefined, index < 5, `call ${index}`);
    }
    const { data, event } = await chat('classify', 5, { reasoning_effort: 'high' }, 'o4-mini', 400);
    const detail = policyDetail(event);
    assert.deepEqual(detail?.['reasoning'], { original: 'effort:high', applied: 'effort:low' });
    assert.equal(detail?.['jsonSchema']?.via, 'response_format.json_schema');
    assert.equal(detail?.['maxTokens']?.field, 'max_completion_tokens');
    // Most warm-up calls ran clamped to low (0.4 x 400 = 160 reasoning tokens), so the room covers that;
    // the saving is priced against the unclamped calls (high: 800).
    assert.ok(detail?.['maxTokens']?.reasoningRoom >= 160);
    assert.equal(data.choices[0]?.finish_reason, 'stop', 'reasoning did not starve the answer');
    // The schema reached the upstream: the answer is the JSON object, not prose.
    assert.equal(typeof JSON.parse(data.choices[0]?.message.content ?? '')['answer'], 'string');
    assert.equal(data.usage?.completion_tokens_details?.reasoning_tokens, 160);
    // The baseline's reasoning is the sketch's mean of the unclamped calls: 800 to within its 2% buckets.
    assert.ok(Math.abs(detail?.['baselineOutputTokens'] - (800 + 5)) <= 16, `baseline ${detail?.['baselineOutputTokens']}`);
  });

  test('the truncation guard raises a cap that cuts too many answers, at once, and records it', async () => {
    const first = await chat('fixed', 80);
    assert.equal(first.data.choices[0]?.finish_reason, 'length');
    assert.equal(first.event.maxTokensSent, 50);
    const second = await chat('fixed', 80);
    assert.equal(policyDetail(second.event)?.['truncationGuard'], undefined, 'two cuts over at least 200 calls are 1%, not over it');
    const third = await chat('fixed', 80);
    const guard = policyDetail(third.event)?.['truncationGuard'];
    assert.ok(guard, 'the third cut passes 1%');
    assert.equal(guard.boost, 2);
    const fourth = await chat('fixed', 80);
    assert.equal(fourth.event.maxTokensSent, 100);
    assert.equal(fourth.data.choices[0]?.finish_reason, 'stop');
  });
});

describe('Anthropic', () => {
  test('the thinking budget stays inside max_tokens: the cap is budget + learned answer cap', async () => {
    const ask = async (replyTokens: number) => {
      const { data, response } = await anthropic.messages
        .create(
          { model: 'claude-sonnet-4-5', max_tokens: 16000, thinking: { type: 'enabled', budget_tokens: 2048 }, messages: [{ role: 'user', content: 'Draft a reply' }] },
          { headers: headers('draft', replyTokens, 3000) },
        )
        .withResponse();
      return { data, event: await row(response.headers.get('x-costgate-request-id')) };
    };
    for (let index = 0; index < WARM_UP; index += 1) await ask(100 + index);
    const { data, event } = await ask(110);
    const detail = policyDetail(event);
    assert.equal(detail?.['maxTokens']?.field, 'max_tokens');
    assert.equal(detail?.['maxTokens']?.original, 16000);
    assert.equal(detail?.['maxTokens']?.reasoningRoom, 2048);
    assert.equal(event.maxTokensSent, 2048 + detail?.['maxTokens']?.answerCap);
    assert.equal(data.stop_reason, 'end_turn');
    assert.equal(data.usage.output_tokens, 2048 + 110);
  });
});

describe('Bedrock', () => {
  test('Converse: inferenceConfig.maxTokens is set and thinking turned off for a feature that needs none', async () => {
    const client = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: stack.url, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    client.middlewareStack.add(
      (next) => async (arguments_) => {
        const request = arguments_.request as { headers: Record<string, string> };
        Object.assign(request.headers, headers('classify', 8, 2000));
        return next(arguments_);
      },
      { step: 'build' },
    );
    let last: { outputTokens: number | undefined; stopReason: string | undefined } = { outputTokens: undefined, stopReason: undefined };
    for (let index = 0; index < WARM_UP + 1; index += 1) {
      const result = await client.send(
        new ConverseCommand({
          modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
          messages: [{ role: 'user', content: [{ text: 'Spam or not?' }] }],
          inferenceConfig: { maxTokens: 8000 },
          additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 4096 } },
        }),
      );
      last = { outputTokens: result.usage?.outputTokens, stopReason: result.stopReason };
    }
    // Thinking clamped off: only the 8-token answer is billed, and the learned cap did not cut it.
    assert.deepEqual(last, { outputTokens: 8, stopReason: 'end_turn' });
    client.destroy();
  });
});

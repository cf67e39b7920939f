import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { UsageEvent } from '../src/core/usage-event.ts';
import { ledgerRows, startStack, type Stack } from './support/stack.ts';

/**
 * Context trimming end to end: official SDKs through the gateway to the emulator. What reached the
 * upstream is checked by asking the emulator directly with the body we expect after trimming: its
 * replies and token counts follow the prompt exactly, so equal answers mean equal prompts.
 */

let stack: Stack;
let gateway: { openai: OpenAI; anthropic: Anthropic };
let direct: { openai: OpenAI; anthropic: Anthropic };

before(async () => {
  stack = await startStack({
    contextTrim: { enabled: true, default: { topK: 2 }, features: { 'legal-qa': { enabled: false } } },
  });
  gateway = {
    openai: new OpenAI({ apiKey: 'sk-client', baseURL: `${stack.url}/v1`, maxRetries: 0 }),
    anthropic: new Anthropic({ apiKey: 'sk-ant-client', baseURL: stack.url, maxRetries: 0 }),
  };
  direct = {
    openai: new OpenAI({ apiKey: 'sk-direct', baseURL: `${stack.emulator.url}/v1`, maxRetries: 0 }),
    anthropic: new Anthropic({ apiKey: 'sk-ant-direct', baseURL: stack.emulator.url, maxRetries: 0 }),
  };
});
after(() => stack.close());

const QUESTION = 'How many days do customers have to ask for a refund?';

/** Two passages answer the question; the rest are about other things. */
const PASSAGES = [
  'Shipping: orders leave the warehouse within two business days and arrive within a week.',
  'Refunds: customers may ask for a refund within 30 days of delivery; refunds go back to the original card.',
  'Warranty: hardware is covered for one year against manufacturing defects.',
  'Privacy: we keep account data for as long as the account is open and delete it on request.',
  'Refund exceptions: gift cards and opened software are not refundable after 14 days.',
  'Careers: the company hires engineers in three offices and supports remote work.',
];
const RELEVANT = [1, 4];

async function row(requestId: string | null): Promise<UsageEvent> {
  assert.ok(requestId);
  const [found] = await ledgerRows(stack, [requestId]);
  assert.ok(found, 'ledger row');
  return found;
}

function trimDetail(event: UsageEvent): { effect: NonNullable<UsageEvent['levers']>[number] | undefined; detail: Record<string, unknown> | undefined } {
  const effect = event.levers?.find((lever) => lever.lever === 'context_trim');
  return { effect, detail: effect?.detail as Record<string, unknown> | undefined };
}

describe('Anthropic document and search_result blocks', () => {
  const documentBlock = (text: string, title: string): Anthropic.DocumentBlockParam => ({
    type: 'document',
    title,
    source: { type: 'text', media_type: 'text/plain', data: text },
  });
  const searchResult = (text: string, index: number): Anthropic.SearchResultBlockParam => ({
    type: 'search_result',
    source: `https://help.example.com/${index}`,
    title: `Help article ${index}`,
    content: [{ type: 'text', text }],
  });
  const request = (blocks: Anthropic.ContentBlockParam[]): Anthropic.MessageCreateParamsNonStreaming => ({
    model: 'claude-sonnet-4-5',
    max_tokens: 200,
    messages: [{ role: 'user', content: [...blocks, { type: 'text', text: QUESTION }] }],
  });

  test('the upstream gets the two relevant documents, in the client order; the lever is recorded', async () => {
    const all = PASSAGES.map((text, index) => documentBlock(text, `policy ${index}`));
    const { data, response } = await gateway.anthropic.messages.create(request(all), { headers: { 'x-costgate-feature': 'support' } }).withResponse();
    const expected = await direct.anthropic.messages.create(request(RELEVANT.map((index) => all[index] as Anthropic.DocumentBlockParam)));
    assert.deepEqual(data.content, expected.content, 'same prompt upstream, same answer');
    assert.equal(data.usage.input_tokens, expected.usage.input_tokens);
    const untrimmed = await direct.anthropic.messages.create(request(all));
    assert.ok(untrimmed.usage.input_tokens > data.usage.input_tokens);

    const { effect, detail } = trimDetail(await row(response.headers.get('x-costgate-request-id')));
    assert.equal(effect?.estimated, true);
    assert.ok((effect?.saving ?? 0n) > 0n);
    assert.deepEqual({ documents: detail?.['documents'], kept: detail?.['kept'], reranker: detail?.['reranker'] }, { documents: 6, kept: 2, reranker: 'bm25' });
  });

  test('search_result blocks are trimmed the same way', async () => {
    const all = PASSAGES.map((text, index) => searchResult(text, index));
    const { data } = await gateway.anthropic.messages.create(request(all), { headers: { 'x-costgate-feature': 'support' } }).withResponse();
    const expected = await direct.anthropic.messages.create(request(RELEVANT.map((index) => all[index] as Anthropic.SearchResultBlockParam)));
    assert.deepEqual(data.content, expected.content);
    assert.equal(data.usage.input_tokens, expected.usage.input_tokens);
  });

  test('a feature with trimming off, and documents with citations on, go upstream whole', async () => {
    const all = PASSAGES.map((text, index) => documentBlock(text, `policy ${index}`));
    const whole = await direct.anthropic.messages.create(request(all));
    const off = await gateway.anthropic.messages.create(request(all), { headers: { 'x-costgate-feature': 'legal-qa' } }).withResponse();
    assert.equal(off.data.usage.input_tokens, whole.usage.input_tokens);
    assert.equal(trimDetail(await row(off.response.headers.get('x-costgate-request-id'))).effect, undefined);

    const cited = all.map((block) => ({ ...block, citations: { enabled: true } }));
    const citedDirect = await direct.anthropic.messages.create(request(cited));
    const citedGateway = await gateway.anthropic.messages.create(request(cited), { headers: { 'x-costgate-feature': 'support' } });
    assert.equal(citedGateway.usage.input_tokens, citedDirect.usage.input_tokens, 'citations point at documents by position');
  });
});

describe('OpenAI x-costgate-context', () => {
  /** A content part marked as retrieved text; the SDK's types do not know the marker. */
  const marked = (text: string) => ({ type: 'text', text, 'x-costgate-context': true }) as OpenAI.ChatCompletionContentPartText;
  const plain = (text: string): OpenAI.ChatCompletionContentPartText => ({ type: 'text', text });
  const request = (parts: OpenAI.ChatCompletionContentPartText[]): OpenAI.ChatCompletionCreateParamsNonStreaming => ({
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'Answer from the passages.' },
      { role: 'user', content: [...parts, plain(QUESTION)] },
    ],
  });

  test('marked parts are trimmed to the relevant two and the markers never reach the upstream', async () => {
    const { data, response } = await gateway.openai.chat.completions
      .create(request(PASSAGES.map(marked)), { headers: { 'x-costgate-feature': 'support' } })
      .withResponse();
    const expected = await direct.openai.chat.completions.create(request(RELEVANT.map((index) => plain(PASSAGES[index] ?? ''))));
    assert.equal(data.choices[0]?.message.content, expected.choices[0]?.message.content);
    assert.equal(data.usage?.prompt_tokens, expected.usage?.prompt_tokens);
    const { detail } = trimDetail(await row(response.headers.get('x-costgate-request-id')));
    assert.deepEqual({ documents: detail?.['documents'], kept: detail?.['kept'] }, { documents: 6, kept: 2 });
  });

  test('whole marked messages are documents too; with trimming off for the feature only the markers go', async () => {
    const messages = (documents: string[], withMarker: boolean): OpenAI.ChatCompletionMessageParam[] => [
      ...documents.map((text) => ({ role: 'user', content: text, ...(withMarker ? { 'x-costgate-context': true } : {}) }) as OpenAI.ChatCompletionUserMessageParam),
      { role: 'user', content: QUESTION },
    ];
    const trimmed = await gateway.openai.chat.completions.create({ model: 'gpt-4o-mini', messages: messages(PASSAGES, true) }, { headers: { 'x-costgate-feature': 'support' } });
    const expected = await direct.openai.chat.completions.create({ model: 'gpt-4o-mini', messages: messages(RELEVANT.map((index) => PASSAGES[index] ?? ''), false) });
    assert.equal(trimmed.choices[0]?.message.content, expected.choices[0]?.message.content);
    assert.equal(trimmed.usage?.prompt_tokens, expected.usage?.prompt_tokens);

    const off = await gateway.openai.chat.completions.create({ model: 'gpt-4o-mini', messages: messages(PASSAGES, true) }, { headers: { 'x-costgate-feature': 'legal-qa' } });
    const whole = await direct.openai.chat.completions.create({ model: 'gpt-4o-mini', messages: messages(PASSAGES, false) });
    assert.equal(off.choices[0]?.message.content, whole.choices[0]?.message.content, 'markers stripped, nothing else changed');
    assert.equal(off.usage?.prompt_tokens, whole.usage?.prompt_tokens);
  });
});

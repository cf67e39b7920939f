import { anthropicStreamEvents, createAnthropicReply, minimumCacheTokens } from './anthropic.ts';
import type { ErrorRenderer, RequestContext } from './context.ts';
import { EmulatorError, isRecord, numberField } from './context.ts';
import { EVENT_STREAM_CONTENT_TYPE, encodeChunk, encodeEvent } from './event-stream.ts';
import { sendJson, sendStream } from './http-io.ts';
import { type BreakpointUsage, type CacheTtl, type PromptBlock, breakpointProblem } from './prompt-cache.ts';
import { anthropicThinkingTokens } from './reasoning.ts';
import { shapeAnswer } from './answer-scenarios.ts';
import { embeddingVector, planOutput, seedFrom } from './reply.ts';
import { replyShape } from './structured-reply.ts';
import { countTokens } from './tokens.ts';

/**
 * Bedrock runtime: Converse, ConverseStream, InvokeModel and InvokeModelWithResponseStream.
 * Any Authorization / SigV4 header is accepted; none is checked.
 */

const EXCEPTIONS = {
  invalid_request: { status: 400, name: 'ValidationException' },
  not_found: { status: 404, name: 'ResourceNotFoundException' },
  rate_limited: { status: 429, name: 'ThrottlingException' },
  server: { status: 500, name: 'InternalServerException' },
  overloaded: { status: 503, name: 'ServiceUnavailableException' },
} as const;

export const renderBedrockError: ErrorRenderer = (error, requestId) => {
  const { status, name } = EXCEPTIONS[error.kind];
  return {
    status,
    headers: { 'x-amzn-errortype': name, 'x-amzn-requestid': requestId },
    body: JSON.stringify({ message: error.message }),
  };
};

/** Bedrock's own minimums (provider-facts §1.3); Sonnet 4.5 is 1,024 where copies disagree. */
const BEDROCK_MINIMUMS: ReadonlyArray<[RegExp, number]> = [
  [/(fable|mythos)-5|sonnet-5-5/, 512],
  [/opus-4-[56]|haiku-4-5/, 4096],
  [/3-5-haiku|haiku-3/, 2048],
];

export function bedrockMinimumCacheTokens(model: string): number {
  return minimumCacheTokens(model, BEDROCK_MINIMUMS);
}

function requireModel(context: RequestContext): string {
  const model = context.pathModel;
  if (model === undefined || model === '') throw new EmulatorError('invalid_request', 'modelId is required');
  return model;
}

// ---------------------------------------------------------------------------------------------
// Converse
// ---------------------------------------------------------------------------------------------

function cachePointTtl(value: unknown): CacheTtl {
  if (!isRecord(value) || value['type'] !== 'default') {
    throw new EmulatorError('invalid_request', "cachePoint.type must be 'default'");
  }
  const ttl = value['ttl'] ?? '5m';
  if (ttl !== '5m' && ttl !== '1h') throw new EmulatorError('invalid_request', "cachePoint.ttl must be '5m' or '1h'");
  return ttl;
}

interface ConversePrompt {
  blocks: PromptBlock[];
  hasCachePoints: boolean;
}

/** Tools, then system, then message content; a cachePoint block ends the prefix at the block before it. */
function conversePrompt(body: Record<string, unknown>, messages: readonly unknown[]): ConversePrompt {
  const blocks: PromptBlock[] = [];
  let hasCachePoints = false;
  const add = (section: string, item: unknown) => {
    if (isRecord(item) && item['cachePoint'] !== undefined) {
      const previous = blocks.at(-1);
      if (previous === undefined) throw new EmulatorError('invalid_request', 'A cachePoint must follow content');
      previous.breakpoint = cachePointTtl(item['cachePoint']);
      hasCachePoints = true;
      return;
    }
    const text = isRecord(item) && typeof item['text'] === 'string' ? item['text'] : JSON.stringify(item);
    blocks.push({ identity: `${section}\u0001${JSON.stringify(item)}`, tokens: countTokens(text) });
  };
  const toolConfig = body['toolConfig'];
  if (isRecord(toolConfig) && Array.isArray(toolConfig['tools'])) {
    for (const tool of toolConfig['tools']) add('tool', tool);
  }
  if (Array.isArray(body['system'])) for (const item of body['system']) add('system', item);
  for (const message of messages) {
    if (!isRecord(message) || !Array.isArray(message['content'])) {
      throw new EmulatorError('invalid_request', 'Each message needs a role and a content list');
    }
    for (const item of message['content']) add(`message\u0001${String(message['role'])}`, item);
  }
  const problem = breakpointProblem(blocks);
  if (problem !== undefined) throw new EmulatorError('invalid_request', problem.replaceAll('cache_control', 'cachePoint'));
  return { blocks, hasCachePoints };
}

function converseUsage(cache: BreakpointUsage, outputTokens: number, hasCachePoints: boolean) {
  const write = cache.write5mTokens + cache.write1hTokens;
  const cacheDetails = [
    ...(cache.write1hTokens > 0 ? [{ ttl: '1h', inputTokens: cache.write1hTokens }] : []),
    ...(cache.write5mTokens > 0 ? [{ ttl: '5m', inputTokens: cache.write5mTokens }] : []),
  ];
  return {
    // Bedrock's inputTokens excludes cache reads and writes (provider-facts §1.3).
    inputTokens: cache.uncachedTokens,
    outputTokens,
    totalTokens: cache.totalTokens + outputTokens,
    ...(hasCachePoints ? { cacheReadInputTokens: cache.readTokens, cacheWriteInputTokens: write } : {}),
    ...(cacheDetails.length > 0 ? { cacheDetails } : {}),
  };
}

export async function handleConverse(context: RequestContext, streaming: boolean): Promise<void> {
  const model = requireModel(context);
  const { body } = context;
  const messages = body['messages'];
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new EmulatorError('invalid_request', 'messages must contain at least one message');
  }
  const inferenceConfig = isRecord(body['inferenceConfig']) ? body['inferenceConfig'] : {};
  const maxTokens = numberField(inferenceConfig, 'maxTokens');
  if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens < 1)) {
    throw new EmulatorError('invalid_request', 'inferenceConfig.maxTokens must be at least 1');
  }
  const prompt = conversePrompt(body, messages);
  const cache = context.state.breakpointCache.apply(`bedrock\u0000${model}`, prompt.blocks, bedrockMinimumCacheTokens(model));
  // Claude thinking rides in additionalModelRequestFields; Converse bills it inside outputTokens
  // without breaking it out, like the real service.
  const extra = isRecord(body['additionalModelRequestFields']) ? body['additionalModelRequestFields'] : {};
  const outputConfig = isRecord(body['outputConfig']) ? body['outputConfig'] : {};
  const plan = shapeAnswer(
    planOutput({
      seed: seedFrom(prompt.blocks.map((block) => block.identity)),
      ...replyShape(context, outputConfig['textFormat']),
      loopTokens: context.replyLoopTokens,
      reasoningTokens: anthropicThinkingTokens(context, model, extra['thinking'], outputConfig['effort'], maxTokens),
      maxTokens,
    }),
    model,
  );
  const stopReason = plan.truncated ? 'max_tokens' : 'end_turn';
  const usage = converseUsage(cache, plan.outputTokens, prompt.hasCachePoints);
  const metrics = { latencyMs: context.latencyMs };
  const headers = { 'x-amzn-requestid': context.requestId };

  if (!streaming) {
    const content = plan.visibleTokens > 0 ? [{ text: plan.text }] : [];
    await sendJson(context, 200, { output: { message: { role: 'assistant', content } }, stopReason, usage, metrics }, headers);
    return;
  }
  const frames = [encodeEvent('messageStart', { role: 'assistant' })];
  for (const piece of plan.pieces) {
    frames.push(encodeEvent('contentBlockDelta', { delta: { text: piece }, contentBlockIndex: 0 }));
  }
  if (plan.visibleTokens > 0) frames.push(encodeEvent('contentBlockStop', { contentBlockIndex: 0 }));
  frames.push(encodeEvent('messageStop', { stopReason }));
  frames.push(encodeEvent('metadata', { usage, metrics }));
  await sendStream(context, { 'content-type': EVENT_STREAM_CONTENT_TYPE, ...headers }, frames);
}

// ---------------------------------------------------------------------------------------------
// InvokeModel
// ---------------------------------------------------------------------------------------------

const TITAN_DIMENSIONS = new Set([256, 512, 1024]);

async function invokeTitanEmbedding(context: RequestContext): Promise<void> {
  const { body } = context;
  const inputText = body['inputText'];
  if (typeof inputText !== 'string' || inputText === '') {
    throw new EmulatorError('invalid_request', 'Malformed input request: #: required key [inputText] not found');
  }
  const dimensions = numberField(body, 'dimensions') ?? 1024;
  if (!TITAN_DIMENSIONS.has(dimensions)) {
    throw new EmulatorError('invalid_request', 'Malformed input request: dimensions must be one of 256, 512, 1024');
  }
  const vector = Array.from(embeddingVector(inputText, dimensions, body['normalize'] !== false));
  const types = Array.isArray(body['embeddingTypes']) ? body['embeddingTypes'] : [];
  const embeddingsByType = {
    ...(types.includes('float') ? { float: vector } : {}),
    ...(types.includes('binary') ? { binary: vector.map((value) => (value > 0 ? 1 : 0)) } : {}),
  };
  const inputTextTokenCount = countTokens(inputText);
  await sendJson(
    context,
    200,
    { embedding: vector, inputTextTokenCount, ...(types.length > 0 ? { embeddingsByType } : {}) },
    {
      'x-amzn-requestid': context.requestId,
      'x-amzn-bedrock-input-token-count': String(inputTextTokenCount),
      'x-amzn-bedrock-invocation-latency': String(context.latencyMs),
    },
  );
}

function isTitanEmbedding(model: string, body: Record<string, unknown>): boolean {
  return model.includes('titan-embed') || typeof body['inputText'] === 'string';
}

export async function handleInvoke(context: RequestContext, streaming: boolean): Promise<void> {
  const model = requireModel(context);
  const { body } = context;
  if (isTitanEmbedding(model, body)) {
    if (streaming) throw new EmulatorError('invalid_request', 'The model does not support streaming.');
    await invokeTitanEmbedding(context);
    return;
  }
  if (body['anthropic_version'] === undefined) {
    const message = /anthropic|claude/.test(model)
      ? 'Malformed input request: #: required key [anthropic_version] not found'
      : 'The emulator serves Anthropic (anthropic_version) and Titan embedding bodies on InvokeModel';
    throw new EmulatorError('invalid_request', message);
  }
  // Automatic (top-level) caching is an Anthropic API feature Bedrock does not accept (provider-facts §1.2).
  if (body['cache_control'] !== undefined) {
    throw new EmulatorError('invalid_request', 'Malformed input request: #: extraneous key [cache_control] is not permitted');
  }
  const reply = createAnthropicReply(context, {
    namespace: `bedrock\u0000${model}`,
    model,
    minimumTokens: bedrockMinimumCacheTokens(model),
    idPrefix: 'msg_bdrk_emu',
  });
  const counts = {
    inputTokenCount: reply.cache.uncachedTokens,
    outputTokenCount: reply.plan.outputTokens,
    cacheReadInputTokenCount: reply.cache.readTokens,
    cacheWriteInputTokenCount: reply.cache.write5mTokens + reply.cache.write1hTokens,
  };
  if (!streaming) {
    await sendJson(context, 200, reply.message, {
      'x-amzn-requestid': context.requestId,
      'x-amzn-bedrock-input-token-count': String(counts.inputTokenCount),
      'x-amzn-bedrock-output-token-count': String(counts.outputTokenCount),
      'x-amzn-bedrock-cache-read-input-token-count': String(counts.cacheReadInputTokenCount),
      'x-amzn-bedrock-cache-write-input-token-count': String(counts.cacheWriteInputTokenCount),
      'x-amzn-bedrock-invocation-latency': String(context.latencyMs),
    });
    return;
  }
  const events = anthropicStreamEvents(reply);
  const last = events.at(-1);
  if (last !== undefined) {
    // Bedrock appends its own totals to the final Anthropic event.
    last['amazon-bedrock-invocationMetrics'] = {
      ...counts,
      invocationLatency: context.latencyMs,
      firstByteLatency: context.latencyMs,
    };
  }
  await sendStream(
    context,
    {
      'content-type': EVENT_STREAM_CONTENT_TYPE,
      'x-amzn-bedrock-content-type': 'application/json',
      'x-amzn-requestid': context.requestId,
    },
    events.map(encodeChunk),
  );
}

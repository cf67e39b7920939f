import type { ErrorRenderer, RequestContext } from './context.ts';
import { EmulatorError, isRecord, numberField, stringField } from './context.ts';
import { SSE_HEADERS, sendJson, sendStream, sseEvent } from './http-io.ts';
import { type BreakpointUsage, type CacheTtl, type PromptBlock, breakpointProblem } from './prompt-cache.ts';
import { shapeAnswer } from './answer-scenarios.ts';
import { type OutputPlan, planOutput, seedFrom } from './reply.ts';
import { replyShape } from './structured-reply.ts';
import { anthropicThinkingTokens } from './reasoning.ts';
import { countTokens } from './tokens.ts';

/**
 * POST /v1/messages (JSON and SSE) and /v1/messages/count_tokens, plus the pieces Bedrock's
 * InvokeModel reuses for Anthropic-native bodies.
 */

const ERROR_TYPES = {
  invalid_request: { status: 400, type: 'invalid_request_error' },
  not_found: { status: 404, type: 'not_found_error' },
  rate_limited: { status: 429, type: 'rate_limit_error' },
  server: { status: 500, type: 'api_error' },
  overloaded: { status: 529, type: 'overloaded_error' },
} as const;

export const renderAnthropicError: ErrorRenderer = (error, requestId) => {
  const { status, type } = ERROR_TYPES[error.kind];
  return {
    status,
    headers: { 'request-id': requestId },
    body: JSON.stringify({ type: 'error', error: { type, message: error.message }, request_id: requestId }),
  };
};

/**
 * Minimum cacheable prefix per model on the Anthropic API (provider-facts §1.2). Where sources
 * conflict the stricter value is used: Sonnet 4.6 2048, Opus 4.7 4096.
 */
const ANTHROPIC_MINIMUMS: ReadonlyArray<[RegExp, number]> = [
  [/(opus|fable|mythos)-5/, 512],
  [/opus-4-8/, 1024],
  [/opus-4-[5-7]|haiku-4-5/, 4096],
  [/sonnet-4-6|haiku-3|3-5-haiku|3-haiku/, 2048],
];

export function minimumCacheTokens(model: string, table = ANTHROPIC_MINIMUMS): number {
  for (const [pattern, minimum] of table) if (pattern.test(model)) return minimum;
  return 1024;
}

/** Reads a `cache_control` marker; undefined when absent. */
export function cacheTtl(marker: unknown): CacheTtl | undefined {
  if (marker === undefined || marker === null) return undefined;
  if (!isRecord(marker) || marker['type'] !== 'ephemeral') {
    throw new EmulatorError('invalid_request', 'cache_control.type: Input should be "ephemeral"');
  }
  const ttl = marker['ttl'] ?? '5m';
  if (ttl !== '5m' && ttl !== '1h') {
    throw new EmulatorError('invalid_request', "cache_control.ttl: Input should be '5m' or '1h'");
  }
  return ttl;
}

const UNCACHEABLE_TYPES = new Set(['thinking', 'redacted_thinking']);

/** One prompt block; the marker is left out of its identity so moving a breakpoint keeps the prefix equal. */
function promptBlock(section: string, value: unknown): PromptBlock {
  if (!isRecord(value)) {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return { identity: `${section}\u0001${text}`, tokens: countTokens(text) };
  }
  const { cache_control: marker, ...rest } = value;
  const plainText = rest['type'] === 'text' && typeof rest['text'] === 'string' ? rest['text'] : undefined;
  const text = plainText ?? JSON.stringify(rest);
  const ttl = cacheTtl(marker);
  // A string content is shorthand for one text block: both are the same prompt, so the same prefix.
  const identity = plainText !== undefined && Object.keys(rest).length === 2 ? `${section}\u0001${plainText}` : `${section}\u0001${JSON.stringify(rest)}`;
  const block: PromptBlock = { identity, tokens: countTokens(text) };
  if (ttl !== undefined) block.breakpoint = ttl;
  return block;
}

export function requireMessages(body: Record<string, unknown>): unknown[] {
  const messages = body['messages'];
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new EmulatorError('invalid_request', 'messages: Field required (a non-empty list)');
  }
  for (const message of messages) {
    if (!isRecord(message) || typeof message['role'] !== 'string') {
      throw new EmulatorError('invalid_request', 'messages: each message needs a role and content');
    }
    const content = message['content'];
    if (typeof content !== 'string' && !Array.isArray(content)) {
      throw new EmulatorError('invalid_request', 'messages: content must be a string or a list of blocks');
    }
  }
  return messages;
}

/** The prompt in cache order: tools, then system, then message content blocks. */
export function anthropicPromptBlocks(body: Record<string, unknown>, messages: readonly unknown[]): PromptBlock[] {
  const blocks: PromptBlock[] = [];
  const tools = body['tools'];
  if (Array.isArray(tools)) for (const tool of tools) blocks.push(promptBlock('tool', tool));
  const system = body['system'];
  if (typeof system === 'string' && system !== '') blocks.push(promptBlock('system', system));
  else if (Array.isArray(system)) for (const block of system) blocks.push(promptBlock('system', block));
  const cacheable: number[] = [];
  for (const message of messages) {
    if (!isRecord(message)) continue;
    const section = `message\u0001${String(message['role'])}`;
    const content = message['content'];
    if (typeof content === 'string') {
      cacheable.push(blocks.length);
      blocks.push(promptBlock(section, content));
      continue;
    }
    if (!Array.isArray(content)) continue;
    for (const block of content) {
      if (!(isRecord(block) && UNCACHEABLE_TYPES.has(String(block['type'])))) cacheable.push(blocks.length);
      blocks.push(promptBlock(section, block));
    }
  }
  // Automatic mode: a top-level marker lands on the last block that can carry one.
  const automatic = cacheTtl(body['cache_control']);
  const last = cacheable.at(-1);
  const target = last === undefined ? undefined : blocks[last];
  if (automatic !== undefined && target !== undefined && target.breakpoint === undefined) {
    target.breakpoint = automatic;
  }
  const problem = breakpointProblem(blocks);
  if (problem !== undefined) throw new EmulatorError('invalid_request', problem);
  return blocks;
}

export function anthropicUsage(cache: BreakpointUsage, outputTokens: number, thinkingTokens = 0) {
  return {
    // Anthropic reports only the uncached part here; reads and writes come on top (provider-facts §1.2).
    input_tokens: cache.uncachedTokens,
    cache_creation_input_tokens: cache.write5mTokens + cache.write1hTokens,
    cache_read_input_tokens: cache.readTokens,
    cache_creation: {
      ephemeral_5m_input_tokens: cache.write5mTokens,
      ephemeral_1h_input_tokens: cache.write1hTokens,
    },
    output_tokens: outputTokens,
    // Reported only when the model thought, as newer API versions do.
    ...(thinkingTokens > 0 ? { output_tokens_details: { thinking_tokens: thinkingTokens } } : {}),
    service_tier: 'standard',
  };
}

export interface AnthropicReply {
  message: Record<string, unknown>;
  plan: OutputPlan;
  cache: BreakpointUsage;
}

export interface AnthropicReplyOptions {
  /** Cache scope: "anthropic:<model>" or "bedrock:<model>". */
  namespace: string;
  model: string;
  minimumTokens: number;
  idPrefix: string;
}

/** Validates an Anthropic-native body, applies the cache model and builds the reply Message. */
export function createAnthropicReply(context: RequestContext, options: AnthropicReplyOptions): AnthropicReply {
  const { body } = context;
  const maxTokens = numberField(body, 'max_tokens');
  if (maxTokens === undefined) throw new EmulatorError('invalid_request', 'max_tokens: Field required');
  if (!Number.isInteger(maxTokens) || maxTokens < 0) {
    throw new EmulatorError('invalid_request', 'max_tokens: Input should be a non-negative integer');
  }
  const messages = requireMessages(body);
  const blocks = anthropicPromptBlocks(body, messages);
  const cache = context.state.breakpointCache.apply(options.namespace, blocks, options.minimumTokens);
  const outputConfig = isRecord(body['output_config']) ? body['output_config'] : {};
  const plan = shapeAnswer(
    planOutput({
      seed: seedFrom(blocks.map((block) => block.identity)),
      // output_format is the structured-outputs beta's name for output_config.format.
      ...replyShape(context, outputConfig['format'] ?? body['output_format']),
      loopTokens: context.replyLoopTokens,
      reasoningTokens: anthropicThinkingTokens(context, options.model, body['thinking'], outputConfig['effort'], maxTokens),
      maxTokens,
    }),
    options.model,
  );
  const message = {
    id: context.state.nextId(options.idPrefix),
    type: 'message',
    role: 'assistant',
    model: options.model,
    content: plan.visibleTokens > 0 ? [{ type: 'text', text: plan.text }] : [],
    stop_reason: plan.truncated ? 'max_tokens' : 'end_turn',
    stop_sequence: null,
    usage: anthropicUsage(cache, plan.outputTokens, plan.reasoningTokens),
  };
  return { message, plan, cache };
}

/** The SSE event sequence for a reply, as objects (Bedrock wraps the same objects in event-stream chunks). */
export function anthropicStreamEvents(reply: AnthropicReply): Array<Record<string, unknown>> {
  const { message, plan, cache } = reply;
  const usage = anthropicUsage(cache, plan.outputTokens, plan.reasoningTokens);
  const events: Array<Record<string, unknown>> = [
    {
      type: 'message_start',
      message: {
        ...message,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        // The real API reports a token or so of output at the start; the final count comes in message_delta.
        usage: { ...usage, output_tokens: Math.min(1, plan.outputTokens) },
      },
    },
  ];
  if (plan.visibleTokens > 0) {
    events.push({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    events.push({ type: 'ping' });
    for (const piece of plan.pieces) {
      events.push({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } });
    }
    events.push({ type: 'content_block_stop', index: 0 });
  }
  events.push({
    type: 'message_delta',
    delta: { stop_reason: message['stop_reason'], stop_sequence: null },
    // Cumulative totals for the whole message, input side included.
    usage: {
      input_tokens: usage.input_tokens,
      cache_creation_input_tokens: usage.cache_creation_input_tokens,
      cache_read_input_tokens: usage.cache_read_input_tokens,
      output_tokens: usage.output_tokens,
      ...(usage.output_tokens_details ? { output_tokens_details: usage.output_tokens_details } : {}),
      server_tool_use: null,
    },
  });
  events.push({ type: 'message_stop' });
  return events;
}

export async function handleMessages(context: RequestContext): Promise<void> {
  const model = stringField(context.body, 'model');
  if (model === undefined) throw new EmulatorError('invalid_request', 'model: Field required');
  const reply = createAnthropicReply(context, {
    namespace: `anthropic\u0000${model}`,
    model,
    minimumTokens: minimumCacheTokens(model),
    idPrefix: 'msg_emu',
  });
  const headers = { 'request-id': context.requestId };
  if (context.body['stream'] !== true) {
    await sendJson(context, 200, reply.message, headers);
    return;
  }
  const chunks = anthropicStreamEvents(reply).map((event) =>
    event['type'] === 'content_block_delta' ? textDeltaEvent(event) : sseEvent(event, String(event['type'])),
  );
  await sendStream(context, { ...SSE_HEADERS, ...headers }, chunks);
}

/** The most frequent event, serialized by hand to keep long streams cheap. */
function textDeltaEvent(event: Record<string, unknown>): string {
  const delta = event['delta'] as { text: string };
  return `event: content_block_delta\ndata: {"type":"content_block_delta","index":${String(event['index'])},"delta":{"type":"text_delta","text":${JSON.stringify(delta.text)}}}\n\n`;
}

export async function handleCountTokens(context: RequestContext): Promise<void> {
  const { body } = context;
  if (stringField(body, 'model') === undefined) throw new EmulatorError('invalid_request', 'model: Field required');
  const blocks = anthropicPromptBlocks(body, requireMessages(body));
  const inputTokens = blocks.reduce((sum, block) => sum + block.tokens, 0);
  await sendJson(context, 200, { input_tokens: inputTokens }, { 'request-id': context.requestId });
}

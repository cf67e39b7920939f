import type { ErrorRenderer, RequestContext } from './context.ts';
import { EmulatorError, isRecord, numberField, stringField } from './context.ts';
import { sendJson } from './http-io.ts';
import { DEFAULT_REASONING_TOKENS, scaleByEffort } from './reasoning.ts';
import { PREFIX_EXTENDED_MS, PREFIX_IDLE_MS, PROMPT_CACHE_TTL_MS, type PrefixUsage } from './prompt-cache.ts';
import { embeddingVector, seedFrom } from './reply.ts';
import { concatTokens, tokenize } from './tokens.ts';

/** Shared by the OpenAI routes: errors, prompt tokenization, prefix caching, embeddings, models. */

export const renderOpenAIError: ErrorRenderer = (error, requestId) => {
  const headers: Record<string, string> = { 'x-request-id': requestId };
  const body = (type: string, code: string | null, message = error.message) =>
    JSON.stringify({ error: { message, type, param: error.param ?? null, code } });
  switch (error.kind) {
    case 'invalid_request':
      return { status: 400, headers, body: body('invalid_request_error', null) };
    case 'not_found':
      return { status: 404, headers, body: body('invalid_request_error', 'not_found') };
    case 'rate_limited':
      return {
        status: 429,
        headers: { ...headers, 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1s' },
        body: body('requests', 'rate_limit_exceeded'),
      };
    case 'server':
      return { status: 500, headers, body: body('server_error', null) };
    case 'overloaded':
      // OpenAI has no 529; an overloaded engine answers 503.
      return { status: 503, headers, body: body('server_error', null) };
  }
};

/** Reasoning markers in a model id: o1/o3/o4 families or the word "reasoning" (gpt-5 is not matched). */
const REASONING_MODEL = /(^|[^a-z0-9])o[1-9](-|$)|reasoning/i;
export { DEFAULT_REASONING_TOKENS };

/**
 * Hidden reasoning tokens a model spends per reply: 0 unless its id marks it as a reasoning model;
 * scaled by `reasoning_effort` (Chat) or `reasoning.effort` (Responses) around the default `medium`.
 */
export function reasoningTokensFor(context: RequestContext, model: string, effort?: unknown): number {
  if (!REASONING_MODEL.test(model)) return 0;
  return scaleByEffort(context.reasoningTokens ?? DEFAULT_REASONING_TOKENS, effort, 'medium');
}

/** gpt-5.6 and later bill cache writes, so their usage reports `cache_write_tokens` (provider-facts §1.1). */
export function reportsCacheWrites(model: string): boolean {
  return takesPromptCacheOptions(model);
}

/**
 * gpt-5.6 and later take `prompt_cache_options` and `prompt_cache_breakpoint` (provider-facts §1.1).
 * Older models answer 400 to either: the planner must never send them there.
 */
export function takesPromptCacheOptions(model: string): boolean {
  return /gpt-5\.(6|[7-9])|gpt-[6-9]/.test(model);
}

export function requireModel(body: Record<string, unknown>): string {
  const model = stringField(body, 'model');
  if (model === undefined || model === '') {
    throw new EmulatorError('invalid_request', 'you must provide a model parameter', 'model');
  }
  return model;
}

export function optionalPositiveInteger(body: Record<string, unknown>, name: string): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new EmulatorError('invalid_request', `Invalid '${name}': expected an integer >= 1.`, name);
  }
  return value;
}

export interface OpenAIPrompt {
  tokens: Uint32Array;
  seed: number;
  /** Token offsets where a content part marked with `prompt_cache_breakpoint` ends. */
  breakpoints: number[];
}

/**
 * The prompt as one token sequence: each part (tools, output schema, instructions, each message) is
 * serialized on its own, so a message keeps its tokens whatever follows it and prefixes stay stable.
 *
 * On models that take explicit breakpoints (`model` given and gpt-5.6+), a message's content parts are
 * serialized one by one so that a breakpoint can end exactly after its part; the marker itself is left
 * out, and a string content is the same as one text part (`text` or `input_text`), so adding or moving
 * a marker never changes the tokens of the prompt.
 */
export function buildOpenAIPrompt(parts: readonly unknown[], model?: string): OpenAIPrompt {
  const explicit = model !== undefined && takesPromptCacheOptions(model);
  const pieces: Uint32Array[] = [];
  const texts: string[] = [];
  const breakpoints: number[] = [];
  let length = 0;
  const add = (text: string) => {
    const ids = tokenize(text);
    pieces.push(ids);
    texts.push(text);
    length += ids.length;
  };
  for (const part of parts) {
    if (part === undefined || part === null) continue;
    if (typeof part === 'string') add(part);
    else if (explicit && isMessage(part)) addMessage(part, add, () => breakpoints.push(length));
    else add(JSON.stringify(part));
  }
  return { tokens: concatTokens(pieces), seed: seedFrom(texts), breakpoints };
}

function isMessage(part: unknown): part is Record<string, unknown> {
  return isRecord(part) && typeof part['role'] === 'string' && (typeof part['content'] === 'string' || Array.isArray(part['content']));
}

const TEXT_PART_TYPES = new Set(['text', 'input_text']);

/**
 * A content part as tokenized: the marker left out; a plain text part is its raw text in a fixed
 * frame (as a model sees it, not JSON-escaped), whichever of `text` / `input_text` spelled it.
 */
function addContentPart(part: unknown, add: (text: string) => void): void {
  if (!isRecord(part)) {
    add(JSON.stringify(part) ?? '');
    return;
  }
  const { prompt_cache_breakpoint: _marker, ...rest } = part;
  const text = rest['text'];
  if (typeof rest['type'] === 'string' && TEXT_PART_TYPES.has(rest['type']) && typeof text === 'string' && Object.keys(rest).length === 2) {
    add('<text>');
    add(text);
    add('</text>');
    return;
  }
  add(JSON.stringify(rest));
}

function addMessage(message: Record<string, unknown>, add: (text: string) => void, markHere: () => void): void {
  const { content, ...rest } = message;
  const contentParts = typeof content === 'string' ? [{ type: 'text', text: content }] : (content as unknown[]);
  // `{"role":"user","content":[` ... `]}`: content is the last key, so the envelope splits around it.
  const envelope = JSON.stringify({ ...rest, content: [] });
  add(envelope.slice(0, -2));
  contentParts.forEach((part, index) => {
    if (index > 0) add(',');
    addContentPart(part, add);
    if (isRecord(part) && part['prompt_cache_breakpoint'] !== undefined && part['prompt_cache_breakpoint'] !== null) markHere();
  });
  add(']}');
}

/** True when some content part carries a `prompt_cache_breakpoint` (a 400 on models that take none). */
function markedPart(parts: unknown): boolean {
  if (!Array.isArray(parts)) return false;
  for (const item of parts) {
    if (!isRecord(item)) continue;
    const content = item['content'];
    if (Array.isArray(content) && content.some((part) => isRecord(part) && part['prompt_cache_breakpoint'] !== undefined && part['prompt_cache_breakpoint'] !== null)) {
      return true;
    }
  }
  return false;
}

/**
 * Validates `prompt_cache_options` and `prompt_cache_breakpoint`s and returns the caching mode.
 * `messages` is the Chat messages or the Responses input array.
 */
export function promptCacheMode(body: Record<string, unknown>, model: string, messages: unknown): 'implicit' | 'explicit' {
  const options = body['prompt_cache_options'];
  const hasOptions = options !== undefined && options !== null;
  const marked = markedPart(messages);
  if (!takesPromptCacheOptions(model)) {
    if (hasOptions) throw new EmulatorError('invalid_request', `'prompt_cache_options' is not supported with this model (${model}).`, 'prompt_cache_options');
    if (marked) throw new EmulatorError('invalid_request', `'prompt_cache_breakpoint' is not supported with this model (${model}).`, 'prompt_cache_breakpoint');
    return 'implicit';
  }
  if (Array.isArray(messages)) {
    for (const item of messages) {
      const content = isRecord(item) ? item['content'] : undefined;
      if (!Array.isArray(content)) continue;
      for (const part of content) {
        const marker = isRecord(part) ? part['prompt_cache_breakpoint'] : undefined;
        if (marker === undefined || marker === null) continue;
        if (!isRecord(marker) || marker['mode'] !== 'explicit') {
          throw new EmulatorError('invalid_request', "Invalid 'prompt_cache_breakpoint.mode': expected 'explicit'.", 'prompt_cache_breakpoint');
        }
      }
    }
  }
  if (!hasOptions) return 'implicit';
  if (!isRecord(options)) throw new EmulatorError('invalid_request', "Invalid 'prompt_cache_options': expected an object.", 'prompt_cache_options');
  const mode = options['mode'] ?? 'implicit';
  if (mode !== 'implicit' && mode !== 'explicit') {
    throw new EmulatorError('invalid_request', "Invalid 'prompt_cache_options.mode': expected 'implicit' or 'explicit'.", 'prompt_cache_options.mode');
  }
  const ttl = options['ttl'];
  if (ttl !== undefined && ttl !== null && ttl !== '30m') {
    throw new EmulatorError('invalid_request', "Invalid 'prompt_cache_options.ttl': '30m' is the only supported value.", 'prompt_cache_options.ttl');
  }
  return mode;
}

export function applyPrefixCache(
  context: RequestContext,
  model: string,
  prompt: OpenAIPrompt,
  mode: 'implicit' | 'explicit' = 'implicit',
): PrefixUsage {
  const cacheKey = stringField(context.body, 'prompt_cache_key') ?? '';
  // gpt-5.6+ keep every entry at least the 30-minute TTL, the only one they offer.
  const idleMs =
    context.body['prompt_cache_retention'] === '24h' ? PREFIX_EXTENDED_MS : takesPromptCacheOptions(model) ? PROMPT_CACHE_TTL_MS : PREFIX_IDLE_MS;
  return context.state.prefixCache.apply(`openai\u0000${model}\u0000${cacheKey}`, prompt.tokens, idleMs, { breakpoints: prompt.breakpoints, mode });
}

// ---------------------------------------------------------------------------------------------
// Embeddings and models
// ---------------------------------------------------------------------------------------------

const MAX_EMBEDDING_INPUTS = 2048;

function embeddingInputs(input: unknown): Array<{ key: string; tokens: number }> {
  const invalid = () => new EmulatorError('invalid_request', "'$.input' is invalid. Please check the API reference.", 'input');
  const one = (item: unknown) => {
    if (typeof item === 'string') {
      if (item === '') throw invalid();
      return { key: item, tokens: tokenize(item).length };
    }
    if (Array.isArray(item) && item.length > 0 && item.every((token) => typeof token === 'number')) {
      return { key: JSON.stringify(item), tokens: item.length };
    }
    throw invalid();
  };
  if (typeof input === 'string') return [one(input)];
  if (!Array.isArray(input) || input.length === 0 || input.length > MAX_EMBEDDING_INPUTS) throw invalid();
  // A flat array of numbers is one pre-tokenized input, not many.
  if (input.every((item) => typeof item === 'number')) return [one(input)];
  return input.map(one);
}

export async function handleEmbeddings(context: RequestContext): Promise<void> {
  const { body } = context;
  const model = requireModel(body);
  const inputs = embeddingInputs(body['input']);
  const dimensions = optionalPositiveInteger(body, 'dimensions') ?? (model.includes('3-large') ? 3072 : 1536);
  const base64 = body['encoding_format'] === 'base64';
  let promptTokens = 0;
  const data = inputs.map((input, index) => {
    promptTokens += input.tokens;
    const vector = embeddingVector(input.key, dimensions);
    const embedding = base64
      ? Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64')
      : Array.from(vector);
    return { object: 'embedding', index, embedding };
  });
  await sendJson(
    context,
    200,
    { object: 'list', data, model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } },
    { 'x-request-id': context.requestId },
  );
}

const LISTED_MODELS = [
  'gpt-4o',
  'gpt-4o-mini',
  'gpt-4.1',
  'gpt-4.1-mini',
  'gpt-5',
  'gpt-5-mini',
  'gpt-5-nano',
  'o3',
  'o4-mini',
  'text-embedding-3-small',
  'text-embedding-3-large',
];

function modelObject(id: string): Record<string, unknown> {
  return { id, object: 'model', created: 1_700_000_000, owned_by: 'costgate-emulator' };
}

export async function handleListModels(context: RequestContext): Promise<void> {
  await sendJson(context, 200, { object: 'list', data: LISTED_MODELS.map(modelObject) });
}

/** Any id is "available": the emulator serves whatever model a test names. */
export async function handleRetrieveModel(context: RequestContext, id: string): Promise<void> {
  await sendJson(context, 200, modelObject(id));
}

/** `max_completion_tokens` wins over the deprecated `max_tokens`. */
export function chatOutputCap(body: Record<string, unknown>): number | undefined {
  const value = numberField(body, 'max_completion_tokens') ?? numberField(body, 'max_tokens');
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
    throw new EmulatorError('invalid_request', 'max_tokens must be an integer >= 1.', 'max_tokens');
  }
  return value;
}

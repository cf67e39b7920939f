import type { ProviderId } from '../core/provider-id.ts';
import { objectField, stringField } from './forward-headers.ts';

/**
 * Batch input lines and their translation to the chosen provider. Lines come in OpenAI batch format
 * (`custom_id`, `method`, `url`, `body`) or Anthropic format (`custom_id`, `params`), plus an optional
 * costgate `metadata` object ({feature, customer, user, tags}) that is never sent upstream.
 *
 * Translation covers text conversations, the bulk of batch work: OpenAI Chat Completions and
 * Anthropic Messages map onto each other (system prompt, text turns, max tokens, temperature, top_p,
 * stop sequences, end user). A line that uses what the other side cannot express the same way
 * (images, tools, audio) is refused with a clear error rather than sent changed.
 */

export interface BatchInputRequest {
  customId: string;
  format: 'openai' | 'anthropic';
  /** OpenAI lines: the endpoint, e.g. /v1/chat/completions. Anthropic lines: /v1/messages. */
  url: string;
  body: Record<string, unknown>;
  metadata: Record<string, unknown> | undefined;
}

export interface TranslatedRequest {
  /** What the provider's batch calls: an OpenAI endpoint path, '/v1/messages' or 'invoke'. */
  endpoint: string;
  model: string;
  body: Record<string, unknown>;
}

export class BatchInputError extends Error {
  override name = 'BatchInputError';
}

const OPENAI_ENDPOINTS = new Set(['/v1/chat/completions', '/v1/responses', '/v1/embeddings', '/v1/completions', '/v1/moderations']);
export const DEFAULT_MAX_TOKENS = 4096;

export function parseBatchInputLine(text: string): BatchInputRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BatchInputError('the line is not valid JSON');
  }
  const line = objectField(parsed);
  if (!line) throw new BatchInputError('the line is not a JSON object');
  const customId = line['custom_id'];
  if (typeof customId !== 'string' || customId === '') throw new BatchInputError('custom_id is required (a non-empty string)');
  const metadata = objectField(line['metadata']);
  const params = objectField(line['params']);
  if (params) return { customId, format: 'anthropic', url: '/v1/messages', body: params, metadata };
  const body = objectField(line['body']);
  if (!body) throw new BatchInputError('expected OpenAI format (method, url, body) or Anthropic format (params)');
  const url = String(line['url'] ?? '/v1/chat/completions');
  if (line['method'] !== undefined && line['method'] !== 'POST') throw new BatchInputError('method must be POST');
  if (!OPENAI_ENDPOINTS.has(url)) throw new BatchInputError(`url ${url} is not a batch endpoint (${[...OPENAI_ENDPOINTS].join(', ')})`);
  return { customId, format: 'openai', url, body, metadata };
}

function textOf(content: unknown, where: string): string | Array<Record<string, unknown>> {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw new BatchInputError(`${where}: content must be a string or a list of text parts`);
  return content.map((part) => {
    const block = objectField(part);
    if (block?.['type'] !== 'text' || typeof block['text'] !== 'string') {
      throw new BatchInputError(`${where}: only text content translates between providers (found ${String(block?.['type'])})`);
    }
    return { type: 'text', text: block['text'] };
  });
}

function joinText(content: string | Array<Record<string, unknown>>): string {
  return typeof content === 'string' ? content : content.map((part) => String(part['text'])).join('\n');
}

/** OpenAI Chat Completions body -> Anthropic Messages params. */
export function chatToMessages(body: Record<string, unknown>): Record<string, unknown> {
  if (body['tools'] !== undefined || body['functions'] !== undefined) throw new BatchInputError('tools do not translate to Anthropic in a batch; send Anthropic-format lines');
  const messages = Array.isArray(body['messages']) ? body['messages'] : [];
  const system: string[] = [];
  const turns: Array<Record<string, unknown>> = [];
  for (const [index, item] of messages.entries()) {
    const message = objectField(item);
    const role = message?.['role'];
    if (role === 'system' || role === 'developer') system.push(joinText(textOf(message?.['content'], `messages[${index}]`)));
    else if (role === 'user' || role === 'assistant') turns.push({ role, content: textOf(message?.['content'], `messages[${index}]`) });
    else throw new BatchInputError(`messages[${index}]: role ${String(role)} does not translate to Anthropic`);
  }
  if (turns.length === 0) throw new BatchInputError('messages: at least one user message is required');
  const params: Record<string, unknown> = {
    model: body['model'],
    max_tokens: body['max_completion_tokens'] ?? body['max_tokens'] ?? DEFAULT_MAX_TOKENS,
    messages: turns,
  };
  if (system.length > 0) params['system'] = system.join('\n\n');
  for (const name of ['temperature', 'top_p'] as const) if (body[name] !== undefined) params[name] = body[name];
  const stop = body['stop'];
  if (stop !== undefined && stop !== null) params['stop_sequences'] = Array.isArray(stop) ? stop : [stop];
  const user = stringField(body['user']) ?? stringField(body['safety_identifier']);
  if (user) params['metadata'] = { user_id: user };
  return params;
}

/** Anthropic Messages params -> OpenAI Chat Completions body. */
export function messagesToChat(params: Record<string, unknown>): Record<string, unknown> {
  if (params['tools'] !== undefined) throw new BatchInputError('tools do not translate to OpenAI in a batch; send OpenAI-format lines');
  const messages: Array<Record<string, unknown>> = [];
  const system = params['system'];
  if (system !== undefined) messages.push({ role: 'system', content: joinText(textOf(system, 'system')) });
  const turns = Array.isArray(params['messages']) ? params['messages'] : [];
  for (const [index, item] of turns.entries()) {
    const message = objectField(item);
    const role = message?.['role'];
    if (role !== 'user' && role !== 'assistant') throw new BatchInputError(`messages[${index}]: role ${String(role)} does not translate to OpenAI`);
    messages.push({ role, content: textOf(message?.['content'], `messages[${index}]`) });
  }
  const body: Record<string, unknown> = { model: params['model'], messages };
  if (params['max_tokens'] !== undefined) body['max_completion_tokens'] = params['max_tokens'];
  for (const name of ['temperature', 'top_p'] as const) if (params[name] !== undefined) body[name] = params[name];
  if (Array.isArray(params['stop_sequences'])) body['stop'] = params['stop_sequences'];
  const user = stringField(objectField(params['metadata'])?.['user_id']);
  if (user) body['user'] = user;
  return body;
}

function isAnthropicOnBedrock(model: string): boolean {
  return /anthropic|claude/i.test(model);
}

/** The request as the chosen provider's batch takes it; `model` overrides the line's own model. */
export function translateRequest(request: BatchInputRequest, provider: ProviderId, model: string | undefined): TranslatedRequest {
  const { format, body } = request;
  switch (provider) {
    case 'openai': {
      const translated = format === 'openai' ? { ...body } : messagesToChat(body);
      const endpoint = format === 'openai' ? request.url : '/v1/chat/completions';
      delete translated['stream'];
      delete translated['stream_options'];
      if (model) translated['model'] = model;
      const chosen = stringField(translated['model']);
      if (!chosen) throw new BatchInputError('no model: give --model or a model in each line');
      return { endpoint, model: chosen, body: translated };
    }
    case 'anthropic': {
      if (format === 'openai' && request.url !== '/v1/chat/completions') throw new BatchInputError(`${request.url} lines cannot be sent to Anthropic`);
      const translated = format === 'anthropic' ? { ...body } : chatToMessages(body);
      delete translated['stream'];
      if (model) translated['model'] = model;
      const chosen = stringField(translated['model']);
      if (!chosen) throw new BatchInputError('no model: give --model or a model in each line');
      if (translated['max_tokens'] === undefined) translated['max_tokens'] = DEFAULT_MAX_TOKENS;
      return { endpoint: '/v1/messages', model: chosen, body: translated };
    }
    case 'bedrock': {
      const chosen = model ?? stringField(body['model']);
      if (!chosen) throw new BatchInputError('no model: give --model with the Bedrock model id');
      if (!isAnthropicOnBedrock(chosen)) {
        // Other model families take their own native body; it is passed as given.
        const { model: _model, ...native } = body;
        return { endpoint: 'invoke', model: chosen, body: native };
      }
      if (format === 'openai' && request.url !== '/v1/chat/completions') throw new BatchInputError(`${request.url} lines cannot be sent to Claude on Bedrock`);
      const params = format === 'anthropic' ? { ...body } : chatToMessages(body);
      delete params['model'];
      delete params['stream'];
      if (params['max_tokens'] === undefined) params['max_tokens'] = DEFAULT_MAX_TOKENS;
      return { endpoint: 'invoke', model: chosen, body: { anthropic_version: 'bedrock-2023-05-31', ...params } };
    }
  }
}

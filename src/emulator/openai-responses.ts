import type { RequestContext } from './context.ts';
import { EmulatorError, epochSeconds, isRecord, numberField, stringField } from './context.ts';
import { SSE_HEADERS, sendJson, sendStream, sseEvent } from './http-io.ts';
import {
  applyPrefixCache,
  buildOpenAIPrompt,
  optionalPositiveInteger,
  promptCacheMode,
  reasoningTokensFor,
  reportsCacheWrites,
  requireModel,
  takesPromptCacheOptions,
} from './openai.ts';
import { planOutput } from './reply.ts';
import { replyShape } from './structured-reply.ts';

/**
 * POST /v1/responses. Streams the real event sequence: response.created, response.in_progress,
 * output_item.added, content_part.added, output_text.delta..., output_text.done, content_part.done,
 * output_item.done, then response.completed (or response.incomplete when max_output_tokens cut it).
 */

function inputParts(input: unknown): unknown[] {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.length > 0) return input;
  throw new EmulatorError('invalid_request', "Invalid 'input': expected a string or a non-empty array.", 'input');
}

export async function handleResponses(context: RequestContext): Promise<void> {
  const { body } = context;
  const model = requireModel(body);
  const maxOutputTokens = optionalPositiveInteger(body, 'max_output_tokens');
  const text = isRecord(body['text']) ? body['text'] : { format: { type: 'text' } };
  const instructions = stringField(body, 'instructions');
  const cacheMode = promptCacheMode(body, model, body['input']);
  const prompt = buildOpenAIPrompt([body['tools'], text['format'], instructions, ...inputParts(body['input'])], model);
  const cache = applyPrefixCache(context, model, prompt, cacheMode);
  const plan = planOutput({
    seed: prompt.seed,
    ...replyShape(context, text['format']),
    loopTokens: context.replyLoopTokens,
    reasoningTokens: reasoningTokensFor(context, model, isRecord(body['reasoning']) ? body['reasoning']['effort'] : undefined),
    maxTokens: maxOutputTokens,
  });
  const inputTokens = prompt.tokens.length;
  const usage = {
    // Like Chat, the input total includes cached tokens.
    input_tokens: inputTokens,
    input_tokens_details: {
      cached_tokens: cache.cachedTokens,
      cache_write_tokens: reportsCacheWrites(model) ? cache.writtenTokens : 0,
    },
    output_tokens: plan.outputTokens,
    output_tokens_details: { reasoning_tokens: plan.reasoningTokens },
    total_tokens: inputTokens + plan.outputTokens,
  };

  const responseId = context.state.nextId('resp_emu');
  const messageId = context.state.nextId('msg_emu');
  const reasoningItem =
    plan.reasoningTokens > 0 ? { id: context.state.nextId('rs_emu'), type: 'reasoning', summary: [] } : undefined;
  const part = (partText: string) => ({ type: 'output_text', text: partText, annotations: [], logprobs: [] });
  const message = (status: string, content: unknown[]) => ({
    id: messageId,
    type: 'message',
    status,
    role: 'assistant',
    content,
  });
  const finalStatus = plan.truncated ? 'incomplete' : 'completed';
  // A reply cut to nothing by the cap has no message item, as with a real reasoning model.
  const hasMessage = plan.visibleTokens > 0 || !plan.truncated;
  const finalOutput = [
    ...(reasoningItem === undefined ? [] : [reasoningItem]),
    ...(hasMessage ? [message(finalStatus, [part(plan.text)])] : []),
  ];
  const reasoning = isRecord(body['reasoning']) ? body['reasoning'] : {};
  const snapshot = (status: string, output: unknown[], withUsage: boolean) => ({
    id: responseId,
    object: 'response',
    created_at: epochSeconds(context),
    status,
    background: false,
    error: null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: instructions ?? null,
    max_output_tokens: maxOutputTokens ?? null,
    model,
    output,
    parallel_tool_calls: body['parallel_tool_calls'] !== false,
    previous_response_id: stringField(body, 'previous_response_id') ?? null,
    prompt_cache_key: stringField(body, 'prompt_cache_key') ?? null,
    // Echoed by the models that take it: the caching options that applied.
    ...(takesPromptCacheOptions(model) ? { prompt_cache_options: { mode: cacheMode, ttl: '30m' } } : {}),
    reasoning: { effort: reasoning['effort'] ?? null, summary: reasoning['summary'] ?? null },
    service_tier: 'default',
    store: body['store'] !== false,
    temperature: numberField(body, 'temperature') ?? 1,
    text,
    tool_choice: body['tool_choice'] ?? 'auto',
    tools: Array.isArray(body['tools']) ? body['tools'] : [],
    top_p: numberField(body, 'top_p') ?? 1,
    truncation: 'disabled',
    usage: withUsage ? usage : null,
    user: null,
    metadata: isRecord(body['metadata']) ? body['metadata'] : {},
  });
  const headers = { 'x-request-id': context.requestId };

  if (body['stream'] !== true) {
    await sendJson(context, 200, snapshot(finalStatus, finalOutput, true), headers);
    return;
  }

  const chunks: string[] = [];
  let sequence = 0;
  const emit = (type: string, fields: Record<string, unknown>) => {
    chunks.push(sseEvent({ type, ...fields, sequence_number: sequence }, type));
    sequence += 1;
  };
  emit('response.created', { response: snapshot('in_progress', [], false) });
  emit('response.in_progress', { response: snapshot('in_progress', [], false) });
  let outputIndex = 0;
  if (reasoningItem !== undefined) {
    emit('response.output_item.added', { output_index: outputIndex, item: reasoningItem });
    emit('response.output_item.done', { output_index: outputIndex, item: reasoningItem });
    outputIndex += 1;
  }
  if (hasMessage) {
    const location = { item_id: messageId, output_index: outputIndex, content_index: 0 };
    emit('response.output_item.added', { output_index: outputIndex, item: message('in_progress', []) });
    emit('response.content_part.added', { ...location, part: part('') });
    for (const piece of plan.pieces) emit('response.output_text.delta', { ...location, delta: piece, logprobs: [] });
    emit('response.output_text.done', { ...location, text: plan.text, logprobs: [] });
    emit('response.content_part.done', { ...location, part: part(plan.text) });
    emit('response.output_item.done', { output_index: outputIndex, item: message(finalStatus, [part(plan.text)]) });
  }
  emit(`response.${finalStatus}`, { response: snapshot(finalStatus, finalOutput, true) });
  await sendStream(context, { ...SSE_HEADERS, ...headers }, chunks);
}

import type { RequestContext } from './context.ts';
import { EmulatorError, epochSeconds, isRecord } from './context.ts';
import { SSE_HEADERS, sendJson, sendStream, sseEvent } from './http-io.ts';
import {
  applyPrefixCache,
  buildOpenAIPrompt,
  chatOutputCap,
  optionalPositiveInteger,
  promptCacheMode,
  reasoningTokensFor,
  reportsCacheWrites,
  requireModel,
} from './openai.ts';
import type { PrefixUsage } from './prompt-cache.ts';
import { shapeAnswer, tokenLogprobs } from './answer-scenarios.ts';
import { type OutputPlan, planOutput } from './reply.ts';
import { replyShape } from './structured-reply.ts';

/** POST /v1/chat/completions, streamed and not. */

const MAX_CHOICES = 8;

function chatUsage(model: string, promptTokens: number, cache: PrefixUsage, plans: readonly OutputPlan[]) {
  const completionTokens = plans.reduce((sum, plan) => sum + plan.outputTokens, 0);
  const reasoningTokens = plans.reduce((sum, plan) => sum + plan.reasoningTokens, 0);
  return {
    // OpenAI's prompt total includes the cached tokens (provider-facts §1.1).
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: {
      cached_tokens: cache.cachedTokens,
      audio_tokens: 0,
      ...(reportsCacheWrites(model) ? { cache_write_tokens: cache.writtenTokens } : {}),
    },
    completion_tokens_details: {
      reasoning_tokens: reasoningTokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function finishReason(plan: OutputPlan): 'stop' | 'length' {
  return plan.truncated ? 'length' : 'stop';
}

export async function handleChatCompletions(context: RequestContext): Promise<void> {
  const { body } = context;
  const model = requireModel(body);
  const messages = body['messages'];
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new EmulatorError('invalid_request', "Invalid 'messages': expected a non-empty array.", 'messages');
  }
  const stream = body['stream'] === true;
  const streamOptions = body['stream_options'];
  if (streamOptions !== undefined && streamOptions !== null && !stream) {
    throw new EmulatorError(
      'invalid_request',
      "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
      'stream_options',
    );
  }
  const includeUsage = stream && isRecord(streamOptions) && streamOptions['include_usage'] === true;
  const choiceCount = Math.min(optionalPositiveInteger(body, 'n') ?? 1, MAX_CHOICES);
  const maxTokens = chatOutputCap(body);

  const cacheMode = promptCacheMode(body, model, messages);
  const prompt = buildOpenAIPrompt([body['tools'], body['response_format'], ...messages], model);
  const cache = applyPrefixCache(context, model, prompt, cacheMode);
  const reasoningTokens = reasoningTokensFor(context, model, body['reasoning_effort']);
  const shape = replyShape(context, body['response_format']);
  const plans = Array.from({ length: choiceCount }, (_, index) =>
    shapeAnswer(planOutput({ seed: prompt.seed + index, ...shape, loopTokens: context.replyLoopTokens, reasoningTokens, maxTokens }), model),
  );
  const wantsLogprobs = body['logprobs'] === true;
  const usage = chatUsage(model, prompt.tokens.length, cache, plans);
  const base = {
    id: context.state.nextId('chatcmpl-emu'),
    created: epochSeconds(context),
    model,
    service_tier: 'default',
    system_fingerprint: 'fp_emulator',
  };
  const headers = { 'x-request-id': context.requestId };

  if (!stream) {
    await sendJson(
      context,
      200,
      {
        ...base,
        object: 'chat.completion',
        choices: plans.map((plan, index) => ({
          index,
          message: { role: 'assistant', content: plan.text, refusal: null, annotations: [] },
          logprobs: wantsLogprobs ? { content: tokenLogprobs(plan.pieces, model), refusal: null } : null,
          finish_reason: finishReason(plan),
        })),
        usage,
      },
      headers,
    );
    return;
  }

  // Every chunk repeats the same envelope; serializing it once keeps long streams cheap for the benchmark.
  const envelope = JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [] });
  const head = `data: ${envelope.slice(0, -'[]}'.length)}[`;
  const tail = includeUsage ? '],"usage":null}\n\n' : ']}\n\n';
  const chunks: string[] = [];
  plans.forEach((plan, index) => {
    const choice = (delta: string, finish: string | null = null, logprobs = 'null') =>
      `${head}{"index":${index},"delta":${delta},"logprobs":${logprobs},"finish_reason":${JSON.stringify(finish)}}${tail}`;
    chunks.push(choice('{"role":"assistant","content":"","refusal":null}'));
    const logprobs = wantsLogprobs ? tokenLogprobs(plan.pieces, model) : undefined;
    plan.pieces.forEach((piece, position) => {
      const entry = logprobs?.[position];
      chunks.push(choice(`{"content":${JSON.stringify(piece)}}`, null, entry ? JSON.stringify({ content: [entry], refusal: null }) : 'null'));
    });
    chunks.push(choice('{}', finishReason(plan)));
  });
  if (includeUsage) {
    // The usage chunk covers the whole request and carries no choices (provider-facts §3).
    chunks.push(sseEvent({ ...base, object: 'chat.completion.chunk', choices: [], usage }));
  }
  chunks.push('data: [DONE]\n\n');
  await sendStream(context, { ...SSE_HEADERS, ...headers }, chunks);
}

/**
 * OpenAI usage objects -> the one usage shape (src/core/usage.ts).
 *
 * OpenAI's input count INCLUDES cached tokens. `prompt_tokens` (Chat Completions, Embeddings) and
 * `input_tokens` (Responses) are the whole prompt; `cached_tokens` (cache reads) and
 * `cache_write_tokens` (cache writes, gpt-5.6 and later) are parts of that total. So:
 *
 *   input.total   = prompt_tokens, as reported
 *   input.noCache = prompt_tokens - cached_tokens - cache_write_tokens
 *
 * That writes sit inside `prompt_tokens` is inferred (genai-prices' extractor treats them that way);
 * no OpenAI document says so. Should a response ever report more cached + written tokens than its
 * prompt, noCache is clamped at 0 rather than going negative.
 *
 * Cache writes: OpenAI writes have their own TTL (in-memory, 24h, or 30m on gpt-5.6), not Anthropic's
 * 5m/1h. Rather than grow the core shape for one provider, OpenAI writes are put in `cacheWrite5m`,
 * and the pricing layer prices `cacheWrite5m` at the model's `cache_write` price (gpt-5.6: 1.25x
 * input; models without a write price: the plain input price, as pre-5.6 models charge nothing extra
 * for writes). `cacheWrite1h` is never set for OpenAI.
 *
 * Output: `completion_tokens` / `output_tokens` already include reasoning tokens, so output.total is
 * the billed count and output.reasoning a part of it. output.text is set only when reasoning was
 * reported (text = total - reasoning - audio), so that "undefined = not reported" stays true.
 *
 * Streaming: Chat sends usage once, in the last chunk before `[DONE]` (with
 * `stream_options.include_usage`); every other chunk has `usage: null`, which converts to undefined.
 * Responses streams carry it on `response.completed` as `response.usage`.
 */
import { z } from 'zod';
import { withoutUndefined, type Usage } from '../../core/usage.ts';

/** A token count: a non-negative integer. Anything else (null, a string, -1) reads as "not reported". */
const count = z.number().int().nonnegative().nullish().catch(undefined);
const details = <Shape extends z.ZodRawShape>(shape: Shape) => z.looseObject(shape).nullish().catch(undefined);

const chatUsageSchema = z.looseObject({
  prompt_tokens: count,
  completion_tokens: count,
  prompt_tokens_details: details({ cached_tokens: count, cache_write_tokens: count }),
  completion_tokens_details: details({ reasoning_tokens: count, audio_tokens: count }),
});

const responsesUsageSchema = z.looseObject({
  input_tokens: count,
  output_tokens: count,
  input_tokens_details: details({ cached_tokens: count, cache_write_tokens: count }),
  output_tokens_details: details({ reasoning_tokens: count }),
});

const embeddingsUsageSchema = z.looseObject({ prompt_tokens: count });

interface OpenAICounts {
  prompt: number | undefined;
  cached: number | undefined;
  written: number | undefined;
  completion: number | undefined;
  reasoning: number | undefined;
  audioOutput: number | undefined;
}

/** Chat Completions `usage` (also the final streamed chunk's `usage`). */
export function convertOpenAIChatUsage(raw: unknown): Usage | undefined {
  const parsed = chatUsageSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const usage = parsed.data;
  return buildUsage(
    {
      prompt: orUndefined(usage.prompt_tokens),
      cached: orUndefined(usage.prompt_tokens_details?.cached_tokens),
      written: orUndefined(usage.prompt_tokens_details?.cache_write_tokens),
      completion: orUndefined(usage.completion_tokens),
      reasoning: orUndefined(usage.completion_tokens_details?.reasoning_tokens),
      audioOutput: orUndefined(usage.completion_tokens_details?.audio_tokens),
    },
    raw,
  );
}

/** Responses API `usage` (also `response.usage` on the streamed `response.completed` event). */
export function convertOpenAIResponsesUsage(raw: unknown): Usage | undefined {
  const parsed = responsesUsageSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const usage = parsed.data;
  return buildUsage(
    {
      prompt: orUndefined(usage.input_tokens),
      cached: orUndefined(usage.input_tokens_details?.cached_tokens),
      written: orUndefined(usage.input_tokens_details?.cache_write_tokens),
      completion: orUndefined(usage.output_tokens),
      reasoning: orUndefined(usage.output_tokens_details?.reasoning_tokens),
      audioOutput: undefined,
    },
    raw,
  );
}

/**
 * Embeddings `usage` ({prompt_tokens, total_tokens}). Embeddings produce no output tokens, and
 * total_tokens equals prompt_tokens, so output.total is recorded as a reported 0.
 */
export function convertOpenAIEmbeddingsUsage(raw: unknown): Usage | undefined {
  const parsed = embeddingsUsageSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const prompt = orUndefined(parsed.data.prompt_tokens);
  if (prompt === undefined) return undefined;
  return { input: { total: prompt, noCache: prompt }, output: { total: 0 }, raw };
}

function buildUsage(counts: OpenAICounts, raw: unknown): Usage | undefined {
  const { prompt, cached, written, completion, reasoning, audioOutput } = counts;
  if (prompt === undefined && completion === undefined) return undefined;
  const noCache = prompt === undefined ? undefined : Math.max(0, prompt - (cached ?? 0) - (written ?? 0));
  const text =
    completion === undefined || reasoning === undefined
      ? undefined
      : Math.max(0, completion - reasoning - (audioOutput ?? 0));
  return {
    input: withoutUndefined({ total: prompt, noCache, cacheRead: cached, cacheWrite5m: written }),
    output: withoutUndefined({ total: completion, text, reasoning }),
    raw,
  };
}

function orUndefined(value: number | null | undefined): number | undefined {
  return value ?? undefined;
}


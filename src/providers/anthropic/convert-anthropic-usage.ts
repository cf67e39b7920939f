/**
 * Anthropic usage objects -> the one usage shape (src/core/usage.ts).
 *
 * Anthropic's `input_tokens` does NOT include cached tokens: it counts only the uncached part of the
 * prompt. Cache reads (`cache_read_input_tokens`) and cache writes (`cache_creation_input_tokens`) are
 * reported on top of it, so:
 *
 *   input.noCache = input_tokens
 *   input.total   = input_tokens + cache_creation_input_tokens + cache_read_input_tokens
 *
 * (docs example: `input_tokens: 21` with 188,086 tokens written is a 188,107-token prompt).
 *
 * Writes are split by TTL with `cache_creation.ephemeral_5m_input_tokens` / `ephemeral_1h_input_tokens`
 * (1h writes cost 2x input, 5m writes 1.25x). When that split is absent (older API versions, some
 * proxies), all of `cache_creation_input_tokens` are counted as 5-minute writes: 5m is the default TTL,
 * and a 1h write needs an explicit `ttl: "1h"` that only newer API versions accept, and those report
 * the split. If the split sums to less than `cache_creation_input_tokens`, the remainder is counted as
 * 5m writes too; if it sums to more, the split wins (it is the more detailed figure).
 *
 * Output: `output_tokens` is the billed total and includes thinking; `output_tokens_details.thinking_tokens`
 * becomes output.reasoning. output.text (= total - reasoning) is set only when thinking was reported.
 *
 * Also used for Bedrock InvokeModel with Anthropic bodies, and for Message Batches result lines.
 */
import { z } from 'zod';
import { additiveInputUsage, splitCacheWrites, withoutUndefined, type Usage } from '../../core/usage.ts';

/** A token count: a non-negative integer. Anything else (null, a string, -1) reads as "not reported". */
const count = z.number().int().nonnegative().nullish().catch(undefined);

const anthropicUsageSchema = z.looseObject({
  input_tokens: count,
  output_tokens: count,
  cache_creation_input_tokens: count,
  cache_read_input_tokens: count,
  cache_creation: z
    .looseObject({ ephemeral_5m_input_tokens: count, ephemeral_1h_input_tokens: count })
    .nullish()
    .catch(undefined),
  output_tokens_details: z.looseObject({ thinking_tokens: count }).nullish().catch(undefined),
});

/** Messages API `usage` (non-streaming body, batch result, or the output of mergeAnthropicStreamUsage). */
export function convertAnthropicUsage(raw: unknown): Usage | undefined {
  const parsed = anthropicUsageSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const usage = parsed.data;
  const noCache = usage.input_tokens ?? undefined;
  const cacheRead = usage.cache_read_input_tokens ?? undefined;
  const written = usage.cache_creation_input_tokens ?? undefined;
  const outputTotal = usage.output_tokens ?? undefined;
  if (noCache === undefined && outputTotal === undefined && cacheRead === undefined && written === undefined) {
    return undefined;
  }

  const { cacheWrite5m, cacheWrite1h } = splitCacheWrites(
    written,
    usage.cache_creation?.ephemeral_5m_input_tokens ?? undefined,
    usage.cache_creation?.ephemeral_1h_input_tokens ?? undefined,
  );
  const reasoning = usage.output_tokens_details?.thinking_tokens ?? undefined;
  const text = outputTotal === undefined || reasoning === undefined ? undefined : Math.max(0, outputTotal - reasoning);

  return {
    input: additiveInputUsage({ noCache, cacheRead, cacheWrite5m, cacheWrite1h }),
    output: withoutUndefined({ total: outputTotal, text, reasoning }),
    raw,
  };
}


/**
 * Streaming: merges `message_start.message.usage` with the LAST `message_delta.usage` into one raw
 * usage object for convertAnthropicUsage. Delta counts are cumulative, so every non-null delta field
 * replaces the start's; null or missing delta fields keep the start's value (input_tokens and the cache
 * fields are often null in deltas, and `cache_creation` is usually only on message_start).
 * Returns undefined when neither argument is an object.
 */
export function mergeAnthropicStreamUsage(start: unknown, delta: unknown): unknown {
  const startRecord = isRecord(start) ? start : undefined;
  const deltaRecord = isRecord(delta) ? delta : undefined;
  if (!startRecord && !deltaRecord) return undefined;
  const merged: Record<string, unknown> = { ...startRecord };
  for (const [key, value] of Object.entries(deltaRecord ?? {})) {
    if (value !== null && value !== undefined) merged[key] = value;
  }
  return merged;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}


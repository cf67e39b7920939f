/**
 * Amazon Bedrock usage objects -> the one usage shape (src/core/usage.ts).
 *
 * Converse / ConverseStream (`usage` on the response, `metadata.usage` on the stream): Bedrock's
 * `inputTokens` does NOT include cached tokens. It counts only uncached input; `cacheReadInputTokens`
 * and `cacheWriteInputTokens` are reported on top of it, so:
 *
 *   input.noCache = inputTokens
 *   input.total   = inputTokens + cacheReadInputTokens + cacheWriteInputTokens
 *
 * Writes are split by TTL with `cacheDetails: [{ttl: '5m' | '1h', inputTokens}]` when present. Without
 * cacheDetails, all writes are 5-minute writes (the default TTL). Write tokens that cacheDetails does
 * not account for, and entries with a TTL other than '1h' (a future '30m', say), are counted as 5m
 * writes, the default-priced bucket.
 *
 * Converse does not break reasoning out of `outputTokens`, so output.reasoning and output.text stay
 * undefined (not reported); output.total is the billed count, reasoning included.
 *
 * InvokeModel with an Anthropic body returns Anthropic's own usage: convert it with
 * `convertAnthropicUsage` (src/providers/anthropic/convert-anthropic-usage.ts).
 * Titan Text Embeddings returns `inputTextTokenCount` in its body: `convertTitanEmbeddingUsage`.
 */
import { z } from 'zod';
import { additiveInputUsage, splitCacheWrites, withoutUndefined, type Usage } from '../../core/usage.ts';

/** A token count: a non-negative integer. Anything else (null, a string, -1) reads as "not reported". */
const count = z.number().int().nonnegative().nullish().catch(undefined);

const cacheDetailSchema = z.looseObject({ ttl: z.string().nullish().catch(undefined), inputTokens: count });

const converseUsageSchema = z.looseObject({
  inputTokens: count,
  outputTokens: count,
  cacheReadInputTokens: count,
  cacheWriteInputTokens: count,
  cacheDetails: z.array(z.unknown()).nullish().catch(undefined),
});

const titanBodySchema = z.looseObject({ inputTextTokenCount: count });

/** Converse `usage`, or ConverseStream `metadata.usage` (same TokenUsage shape). */
export function convertBedrockConverseUsage(raw: unknown): Usage | undefined {
  const parsed = converseUsageSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const usage = parsed.data;
  const noCache = usage.inputTokens ?? undefined;
  const cacheRead = usage.cacheReadInputTokens ?? undefined;
  const written = usage.cacheWriteInputTokens ?? undefined;
  const outputTotal = usage.outputTokens ?? undefined;
  if (noCache === undefined && outputTotal === undefined && cacheRead === undefined && written === undefined) {
    return undefined;
  }

  const { reported5m, reported1h } = reportedWrites(usage.cacheDetails ?? undefined);
  const { cacheWrite5m, cacheWrite1h } = splitCacheWrites(written, reported5m, reported1h);
  return {
    input: additiveInputUsage({ noCache, cacheRead, cacheWrite5m, cacheWrite1h }),
    output: withoutUndefined({ total: outputTotal }),
    raw,
  };
}

/** Sums Bedrock's `cacheDetails` per TTL; undefined when it reported none. */
function reportedWrites(details: readonly unknown[] | undefined): { reported5m: number | undefined; reported1h: number | undefined } {
  const entries = (details ?? [])
    .map((entry) => cacheDetailSchema.safeParse(entry))
    .flatMap((result) => (result.success && result.data.inputTokens != null ? [result.data] : []));
  if (entries.length === 0) return { reported5m: undefined, reported1h: undefined };
  let reported1h = 0;
  let reported5m = 0;
  for (const entry of entries) {
    if (entry.ttl === '1h') reported1h += entry.inputTokens ?? 0;
    else reported5m += entry.inputTokens ?? 0;
  }
  return { reported5m, reported1h };
}

/**
 * Titan Text Embeddings (InvokeModel) response body: `{embedding, inputTextTokenCount, embeddingsByType}`.
 * Embeddings produce no output tokens, so output.total is a reported 0. `raw` keeps only the count,
 * not the embedding vectors.
 */
export function convertTitanEmbeddingUsage(rawBody: unknown): Usage | undefined {
  const parsed = titanBodySchema.safeParse(rawBody);
  if (!parsed.success) return undefined;
  const tokens = parsed.data.inputTextTokenCount ?? undefined;
  if (tokens === undefined) return undefined;
  return { input: { total: tokens, noCache: tokens }, output: { total: 0 }, raw: { inputTextTokenCount: tokens } };
}


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
import type { Usage } from '../../core/usage.ts';

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

  const { cacheWrite5m, cacheWrite1h } = splitWrites(written, usage.cacheDetails ?? undefined);
  const total =
    noCache === undefined ? undefined : noCache + (cacheRead ?? 0) + (cacheWrite5m ?? 0) + (cacheWrite1h ?? 0);
  return {
    input: withoutUndefined({ total, noCache, cacheRead, cacheWrite5m, cacheWrite1h }),
    output: withoutUndefined({ total: outputTotal }),
    raw,
  };
}

function splitWrites(
  written: number | undefined,
  details: readonly unknown[] | undefined,
): { cacheWrite5m: number | undefined; cacheWrite1h: number | undefined } {
  const entries = (details ?? [])
    .map((entry) => cacheDetailSchema.safeParse(entry))
    .flatMap((result) => (result.success && result.data.inputTokens != null ? [result.data] : []));
  if (entries.length === 0) return { cacheWrite5m: written, cacheWrite1h: undefined };
  let split1h = 0;
  let split5m = 0;
  for (const entry of entries) {
    if (entry.ttl === '1h') split1h += entry.inputTokens ?? 0;
    else split5m += entry.inputTokens ?? 0;
  }
  const remainder = Math.max(0, (written ?? 0) - split5m - split1h);
  return { cacheWrite5m: split5m + remainder, cacheWrite1h: split1h };
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

/** Drops undefined members, as exactOptionalPropertyTypes wants for the optional usage fields. */
function withoutUndefined<Key extends string>(fields: Record<Key, number | undefined>): { [K in Key]?: number } {
  const result: { [K in Key]?: number } = {};
  for (const key of Object.keys(fields) as Key[]) {
    const value = fields[key];
    if (value !== undefined) result[key] = value;
  }
  return result;
}

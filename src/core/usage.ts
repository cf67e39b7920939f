/**
 * The one usage shape every provider converts into.
 *
 * `undefined` means the provider did not report the field; `0` means it reported zero.
 * `input.total` is always the full prompt size: uncached + cache reads + cache writes,
 * whatever the provider's own convention (OpenAI counts cached tokens inside its prompt
 * total; Anthropic and Bedrock report them on top of it).
 */
export interface InputUsage {
  total?: number;
  noCache?: number;
  cacheRead?: number;
  cacheWrite5m?: number;
  cacheWrite1h?: number;
}

export interface OutputUsage {
  total?: number;
  text?: number;
  reasoning?: number;
}

export interface Usage {
  input: InputUsage;
  output: OutputUsage;
  /** The provider's usage object as received, kept for audits and re-pricing. */
  raw?: unknown;
}

export function emptyUsage(): Usage {
  return { input: {}, output: {} };
}

export function cacheWriteTokens(usage: Usage): number {
  return (usage.input.cacheWrite5m ?? 0) + (usage.input.cacheWrite1h ?? 0);
}

/** Drops undefined members, as exactOptionalPropertyTypes wants for the optional usage fields. */
export function withoutUndefined<Key extends string>(fields: Record<Key, number | undefined>): { [K in Key]?: number } {
  const result: { [K in Key]?: number } = {};
  for (const key of Object.keys(fields) as Key[]) {
    const value = fields[key];
    if (value !== undefined) result[key] = value;
  }
  return result;
}

/**
 * Splits a provider's cache-write count into 5-minute and 1-hour writes from its per-TTL breakdown.
 * No breakdown reported: every write is a default (5-minute) write. Writes the breakdown does not
 * account for are 5-minute writes too, so the two parts always add up to what was billed.
 */
export function splitCacheWrites(
  written: number | undefined,
  reported5m: number | undefined,
  reported1h: number | undefined,
): { cacheWrite5m: number | undefined; cacheWrite1h: number | undefined } {
  if (reported5m === undefined && reported1h === undefined) return { cacheWrite5m: written, cacheWrite1h: undefined };
  const cacheWrite1h = reported1h ?? 0;
  const remainder = Math.max(0, (written ?? 0) - (reported5m ?? 0) - cacheWrite1h);
  return { cacheWrite5m: (reported5m ?? 0) + remainder, cacheWrite1h };
}

/**
 * Input usage of a provider that reports cache reads and writes on top of its input count
 * (Anthropic, Bedrock): the total is their sum.
 */
export function additiveInputUsage(parts: { noCache: number | undefined; cacheRead: number | undefined; cacheWrite5m: number | undefined; cacheWrite1h: number | undefined }): InputUsage {
  const { noCache, cacheRead, cacheWrite5m, cacheWrite1h } = parts;
  const total = noCache === undefined ? undefined : noCache + (cacheRead ?? 0) + (cacheWrite5m ?? 0) + (cacheWrite1h ?? 0);
  return withoutUndefined({ total, noCache, cacheRead, cacheWrite5m, cacheWrite1h });
}

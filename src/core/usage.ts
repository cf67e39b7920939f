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

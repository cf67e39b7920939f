/**
 * The most output tokens a model will produce in one call, for audits: a `max_tokens` at (or
 * beyond) this is no cap at all. From the providers' model pages as of 2026; a model not listed
 * is simply not flagged. Bedrock ids are matched on the same family names.
 */
const LIMITS: ReadonlyArray<[RegExp, number]> = [
  [/gpt-5/, 128_000],
  [/\bo1-mini/, 65_536],
  [/\bo[134](-|$)/, 100_000],
  [/gpt-4\.1/, 32_768],
  [/gpt-4o/, 16_384],
  [/opus-4-6|opus-4-7|opus-4-8|opus-5|fable-5|mythos-5/, 128_000],
  [/opus-4-5|sonnet-4|haiku-4-5|3-7-sonnet/, 64_000],
  [/opus-4/, 32_000],
  [/3-5-haiku|3-5-sonnet|claude-3-haiku/, 8_192],
];

export function modelOutputLimit(model: string | undefined): number | undefined {
  if (!model) return undefined;
  const name = model.toLowerCase();
  for (const [pattern, limit] of LIMITS) if (pattern.test(name)) return limit;
  return undefined;
}

import type { Picodollars } from '../../core/money.ts';
import type { ProviderId } from '../../core/provider-id.ts';
import type { Usage } from '../../core/usage.ts';
import type { Pricer } from '../../pricing/pricer.ts';

/**
 * What the breakpoints costgate added did to one call's bill. The baseline is the same call without
 * them: every token they read or wrote would have been sent uncached. Cached tokens inside the prefix
 * the client's own markers cover (`clientCoverTokens`) are assumed to have been cached anyway; when
 * the client set no markers the counterfactual is exact.
 *
 *   savings = cost(our reads uncached) - cost(actual)                          what reading saved
 *   premium = cost(our reads uncached) - cost(our reads and writes uncached)   what writing cost extra
 *   saving  = savings - premium  (the lever's saving; negative on a first write)
 */

export interface BreakpointEffect {
  saving: Picodollars;
  /** Extra paid for writing the cache, >= 0. */
  premium: Picodollars;
  /** Saved by reading it, >= 0. */
  savings: Picodollars;
  /** True when client markers made the counterfactual an estimate. */
  estimated: boolean;
  /** Tokens read and written because of costgate's breakpoints. */
  readTokens: number;
  writeTokens: number;
}

export interface EffectInput {
  provider: ProviderId;
  model: string;
  usage: Usage;
  at: Date;
  /** Cumulative prompt tokens through the client's last marker (0 when it set none). */
  clientCoverTokens: number;
}

function uncache(usage: Usage, reads: number, writes5m: number, writes1h: number): Usage {
  const input = { ...usage.input };
  input.cacheRead = (input.cacheRead ?? 0) - reads;
  input.cacheWrite5m = (input.cacheWrite5m ?? 0) - writes5m;
  input.cacheWrite1h = (input.cacheWrite1h ?? 0) - writes1h;
  input.noCache = (input.noCache ?? 0) + reads + writes5m + writes1h;
  return { input, output: usage.output };
}

export function breakpointEffect(pricer: Pricer, input: EffectInput): BreakpointEffect | undefined {
  const { usage, clientCoverTokens } = input;
  const read = usage.input.cacheRead ?? 0;
  const write5m = usage.input.cacheWrite5m ?? 0;
  const write1h = usage.input.cacheWrite1h ?? 0;
  // The cached prefix is laid out as [read][1h writes][5m writes] (1h entries come first); only what
  // lies past the client's cover is ours.
  const ourRead = Math.max(0, read - clientCoverTokens);
  const writeStart = read;
  const ourWrites = Math.max(0, writeStart + write1h + write5m - Math.max(writeStart, clientCoverTokens));
  const our5m = Math.min(write5m, ourWrites);
  const our1h = Math.min(write1h, ourWrites - our5m);

  const price = (candidate: Usage) => pricer.cost({ provider: input.provider, model: input.model, usage: candidate, at: input.at })?.cost;
  const actual = price(usage);
  const readsUncached = price(uncache(usage, ourRead, 0, 0));
  const allUncached = price(uncache(usage, ourRead, our5m, our1h));
  if (actual === undefined || readsUncached === undefined || allUncached === undefined) return undefined;
  const savings = readsUncached - actual;
  return {
    saving: allUncached - actual,
    premium: readsUncached - allUncached,
    savings,
    estimated: clientCoverTokens > 0,
    readTokens: ourRead,
    writeTokens: our5m + our1h,
  };
}

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

/**
 * OpenAI gpt-5.6+ when costgate switched the request to explicit mode: without costgate the request
 * would have used implicit caching, which writes the whole prompt (to its last 128-token step, at the
 * 1.25x write price) and reads the longest prefix still cached. That counterfactual is modelled, not
 * observed: `implicitReadTokens` is the longest prefix of this prompt the feature sent within the last
 * 30 minutes (every implicit call writes its whole prompt, and each use refreshes it), rounded down to a
 * 128-token step. So the effect is always `estimated`.
 *
 *   saving  = cost(implicit counterfactual) - cost(actual)
 *   premium = what the actual writes cost over sending them uncached
 *   savings = saving + premium  (what reading, and not writing what implicit caching would have written,
 *             earned against the counterfactual; negative when implicit caching would have read more)
 */
export interface ImplicitBaselineInput {
  provider: ProviderId;
  model: string;
  usage: Usage;
  at: Date;
  implicitReadTokens: number;
}

const IMPLICIT_MINIMUM = 1024;
const IMPLICIT_STEP = 128;

/** The longest cacheable implicit prefix within `tokens`: 0 below 1,024, else 1,024 + k*128. */
export function implicitStep(tokens: number): number {
  return tokens < IMPLICIT_MINIMUM ? 0 : IMPLICIT_MINIMUM + Math.floor((tokens - IMPLICIT_MINIMUM) / IMPLICIT_STEP) * IMPLICIT_STEP;
}

export function implicitBaselineEffect(pricer: Pricer, input: ImplicitBaselineInput): BreakpointEffect | undefined {
  const { usage } = input;
  const read = usage.input.cacheRead ?? 0;
  const written = usage.input.cacheWrite5m ?? 0;
  const total = usage.input.total ?? (usage.input.noCache ?? 0) + read + written;
  const baselineRead = Math.min(implicitStep(input.implicitReadTokens), implicitStep(total));
  const baselineWrite = implicitStep(total) - baselineRead;
  const baseline: Usage = {
    input: { total, noCache: total - baselineRead - baselineWrite, cacheRead: baselineRead, cacheWrite5m: baselineWrite },
    output: usage.output,
  };
  const price = (candidate: Usage) => pricer.cost({ provider: input.provider, model: input.model, usage: candidate, at: input.at })?.cost;
  const actual = price(usage);
  const counterfactual = price(baseline);
  const writesUncached = price(uncache(usage, 0, written, 0));
  if (actual === undefined || counterfactual === undefined || writesUncached === undefined) return undefined;
  const saving = counterfactual - actual;
  const premium = actual - writesUncached;
  return { saving, premium, savings: saving + premium, estimated: true, readTokens: read, writeTokens: written };
}

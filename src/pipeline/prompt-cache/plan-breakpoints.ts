import type { CacheRules, CacheTtl } from '../../providers/cache-layout.ts';
import type { PositionKind, ReuseEstimate } from './prefix-statistics.ts';

/**
 * Which breakpoints to add to one request, and with which TTL, from the reuse evidence.
 *
 * Per token of a cached segment, relative to the uncached input price: a read saves `read`
 * (0.9 on Anthropic), a write costs `write5m` (0.25) or `write1h` (1.0) extra (OpenAI gpt-5.6: one
 * 30-minute TTL, `write30m` 0.25). If a prefix's next
 * occurrence comes within the TTL with probability p, every occurrence is in the long run a read with
 * probability p and a (re)write otherwise, so the expected value of caching it per occurrence is
 *
 *     EV(ttl) = p(ttl) * read - (1 - p(ttl)) * write(ttl)
 *
 * 5m wins when reuse is frequent (p5 close to p1h, cheaper writes); 1h when gaps sit between five
 * minutes and an hour (p1h well above p5); no breakpoint when neither is positive. A candidate whose
 * provider entry is believed alive is read now for sure (worth `read` per token), but only from a
 * breakpoint within the lookback of it: it gets a marker of its own only when none is.
 *
 * The assignment is chosen over all valid combinations (at most 4 breakpoints in all, client markers
 * kept where they are, longer TTLs before shorter ones, per-model minimums, the lookback for reads:
 * 20 blocks on Anthropic and Bedrock, none on OpenAI, where an entry is read only through a
 * breakpoint that ends exactly on it),
 * maximizing the summed value; the counts involved are tiny (a handful of candidates).
 */

export interface PriceRatios {
  /** Saving of a read per token, as a fraction of the uncached input price. */
  read: number;
  write5m: number;
  /** OpenAI's 30-minute writes, which the pricer bills at the 5-minute write price (its cache-write price). */
  write30m: number;
  write1h: number;
  /** Uncached input price in picodollars per token, when the model is priced. */
  inputPicodollarsPerToken: number | undefined;
}

export const DEFAULT_RATIOS: PriceRatios = { read: 0.9, write5m: 0.25, write30m: 0.25, write1h: 1, inputPicodollarsPerToken: undefined };

export interface Candidate {
  /** Block index: the breakpoint ends this block. */
  index: number;
  kind: PositionKind | 'live';
  key: string;
  estimate: ReuseEstimate;
}

export interface PlanInput {
  /** Cumulative tokens through each block. */
  cumulative: readonly number[];
  /** Breakpoints the client set: block index to TTL. */
  client: ReadonlyMap<number, CacheTtl>;
  candidates: readonly Candidate[];
  /** Block indexes whose prefix the provider is believed to hold now, with that entry's TTL. */
  live: ReadonlyMap<number, CacheTtl>;
  rules: CacheRules;
  ratios: PriceRatios;
}

export interface Placement {
  index: number;
  ttl: CacheTtl;
  kind: Candidate['kind'];
  /** Tokens from the previous breakpoint (or the read point) to this one. */
  segmentTokens: number;
  /** The provider's entry for this prefix is believed alive: this breakpoint reads. */
  live: boolean;
  within5m: number;
  within30m: number;
  within1h: number;
  /** Expected value of this breakpoint's own segment per occurrence, in tokens at the uncached input price (reads now not included). */
  expectedTokens: number;
}

export interface Plan {
  placements: Placement[];
  /** Expected value of the whole plan for this call, in tokens at the uncached input price. */
  expectedTokens: number;
  /** Tokens expected to be read now that the client's own markers would not have reached. */
  readTokens: number;
  /** Expected value in picodollars (rounded), when the model is priced. */
  expectedPicodollars: number | undefined;
}

/** Probability that the next occurrence falls within `ttl` (a longer TTL never less likely). */
export function reuseWithin(estimate: ReuseEstimate, ttl: CacheTtl): number {
  if (ttl === '5m') return estimate.within5m;
  if (ttl === '30m') return Math.max(estimate.within30m, estimate.within5m);
  return Math.max(estimate.within1h, estimate.within30m, estimate.within5m);
}

const WRITE_RATIO: Record<CacheTtl, (ratios: PriceRatios) => number> = {
  '5m': (ratios) => ratios.write5m,
  '30m': (ratios) => ratios.write30m,
  '1h': (ratios) => ratios.write1h,
};

export function steadyValue(estimate: ReuseEstimate, ttl: CacheTtl, ratios: PriceRatios): number {
  const p = reuseWithin(estimate, ttl);
  return p * ratios.read - (1 - p) * WRITE_RATIO[ttl](ratios);
}

interface Choice {
  candidate: Candidate;
  ttl: CacheTtl;
}

/** The read point a set of breakpoints reaches: the longest live prefix within lookback of one of them. */
function readPoint(breakpoints: readonly number[], live: ReadonlyMap<number, CacheTtl>, lookback: number): number {
  let hit = -1;
  for (const breakpoint of breakpoints) {
    for (let index = breakpoint; index > breakpoint - lookback && index > hit; index -= 1) {
      if (live.has(index)) {
        hit = index;
        break;
      }
    }
  }
  return hit;
}

const TTL_ORDER: Record<CacheTtl, number> = { '5m': 0, '30m': 1, '1h': 2 };

/** Longer-lived entries must come first (Anthropic and Bedrock: 1h before 5m; OpenAI has one TTL). */
function violatesOrder(merged: ReadonlyArray<{ index: number; ttl: CacheTtl }>): boolean {
  let shortest = Number.POSITIVE_INFINITY;
  for (const breakpoint of merged) {
    const order = TTL_ORDER[breakpoint.ttl];
    if (order > shortest) return true;
    shortest = Math.min(shortest, order);
  }
  return false;
}

function violatesMinimum(merged: ReadonlyArray<{ index: number; ours: boolean }>, input: PlanInput): boolean {
  const { minimumTokens, minimumRule } = input.rules;
  let previousTokens = 0;
  let previousOurs = false;
  for (const breakpoint of merged) {
    const tokens = input.cumulative[breakpoint.index] ?? 0;
    if (breakpoint.ours && tokens < minimumTokens) return true;
    // Spacing only matters between pairs we made: the client's own pairs are the client's choice.
    if (minimumRule === 'spacing' && (breakpoint.ours || previousOurs) && tokens - previousTokens < minimumTokens) return true;
    previousTokens = tokens;
    previousOurs = breakpoint.ours;
  }
  return false;
}

interface Evaluation {
  value: number;
  placements: Placement[];
  readTokens: number;
}

function evaluate(choices: readonly Choice[], input: PlanInput, clientHit: number): Evaluation | undefined {
  const merged = [
    ...[...input.client].map(([index, ttl]) => ({ index, ttl, ours: false })),
    ...choices.map((choice) => ({ index: choice.candidate.index, ttl: choice.ttl, ours: true })),
  ].sort((a, b) => a.index - b.index);
  if (violatesOrder(merged) || violatesMinimum(merged, input)) return undefined;

  const { ratios, cumulative } = input;
  const hit = readPoint(
    merged.map((breakpoint) => breakpoint.index),
    input.live,
    input.rules.lookbackBlocks,
  );
  // Reads the client's own markers would not have reached are ours.
  const readTokens = Math.max(0, (cumulative[hit] ?? 0) - (cumulative[clientHit] ?? 0));
  let value = readTokens * ratios.read;
  const placements: Placement[] = [];
  const hitTokens = hit >= 0 ? (cumulative[hit] ?? 0) : 0;
  let previousTokens = 0;
  const byIndex = new Map(choices.map((choice) => [choice.candidate.index, choice]));
  for (const breakpoint of merged) {
    const tokens = cumulative[breakpoint.index] ?? 0;
    const choice = byIndex.get(breakpoint.index);
    if (breakpoint.index < hit) {
      // Inside the read: it neither writes nor adds anything, and takes a slot.
      if (choice) return undefined;
      previousTokens = tokens;
      continue;
    }
    const isLive = breakpoint.index === hit;
    // A live entry's own segment is refreshed; past the read point, segments are written.
    const segment = Math.max(0, isLive ? tokens - previousTokens : tokens - Math.max(previousTokens, hitTokens));
    previousTokens = tokens;
    if (!choice) continue;
    // A live entry is read and refreshed whether or not a marker sits on it, as long as a later
    // breakpoint reaches it: its marker is worth only the read it enables (counted above).
    const expected = isLive ? 0 : segment * steadyValue(choice.candidate.estimate, choice.ttl, ratios);
    if (!isLive && expected <= 0) return undefined;
    value += expected;
    placements.push({
      index: breakpoint.index,
      ttl: choice.ttl,
      kind: choice.candidate.kind,
      segmentTokens: segment,
      live: isLive,
      within5m: choice.candidate.estimate.within5m,
      within30m: choice.candidate.estimate.within30m,
      within1h: choice.candidate.estimate.within1h,
      expectedTokens: expected,
    });
  }
  if (placements.length === 0) return undefined;
  return { value, placements, readTokens };
}

/** The best set of breakpoints to add; empty when nothing is expected to pay. */
export function planBreakpoints(input: PlanInput): Plan {
  const budget = Math.max(0, input.rules.maxBreakpoints - input.client.size);
  const candidates = input.candidates.filter((candidate) => !input.client.has(candidate.index));
  const empty: Plan = { placements: [], expectedTokens: 0, readTokens: 0, expectedPicodollars: 0 };
  if (budget === 0 || candidates.length === 0) return empty;

  const clientHit = readPoint([...input.client.keys()], input.live, input.rules.lookbackBlocks);
  let best: Evaluation = { value: 0, placements: [], readTokens: 0 };
  const chosen: Choice[] = [];
  const search = (position: number) => {
    if (position === candidates.length) {
      if (chosen.length === 0) return;
      const result = evaluate(chosen, input, clientHit);
      // Strictly better, or as good with fewer breakpoints.
      if (result && (result.value > best.value + 1e-9 || (Math.abs(result.value - best.value) <= 1e-9 && result.placements.length < best.placements.length))) {
        best = result;
      }
      return;
    }
    search(position + 1);
    if (chosen.length >= budget) return;
    const candidate = candidates[position];
    if (!candidate) return;
    // A marker on a live entry keeps that entry's TTL: asking for less could shorten it.
    const liveTtl = input.live.get(candidate.index);
    for (const ttl of liveTtl === undefined ? input.rules.ttls : [liveTtl]) {
      chosen.push({ candidate, ttl });
      search(position + 1);
      chosen.pop();
    }
  };
  search(0);
  if (best.placements.length === 0 || best.value <= 0) return empty;
  const perToken = input.ratios.inputPicodollarsPerToken;
  return {
    placements: best.placements,
    expectedTokens: best.value,
    readTokens: best.readTokens,
    expectedPicodollars: perToken === undefined ? undefined : Math.round(best.value * perToken),
  };
}

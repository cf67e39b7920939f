import { type Plan, type PriceRatios, steadyValue } from './plan-breakpoints.ts';
import { hasEvidence, type ReuseEstimate } from './prefix-statistics.ts';

/**
 * OpenAI gpt-5.6+: explicit mode with the planned breakpoints, or the default implicit caching?
 *
 * Both are valued the same way as Anthropic breakpoints (plan-breakpoints.ts): per occurrence, a
 * cached segment is worth `p * read - (1 - p) * write` per token, with p the chance that the prefix
 * ending the segment comes back within the 30-minute TTL.
 * - Implicit caching writes the whole prompt on every call (and reads the longest prefix still cached,
 *   wherever it ends): every segment between candidate positions, up to the end of the prompt, is
 *   cached whether or not it pays, including positions no marker can take (tool definitions, the
 *   Responses `instructions`).
 * - Explicit mode caches only up to the breakpoints the plan placed, each segment valued by the
 *   prefix ending at its breakpoint.
 * So explicit wins where the end of the prompt is rarely reused (a one-shot question after a shared
 * system prompt: implicit caching pays 1.25x on a tail nobody reads), and implicit wins where the
 * reused prefix ends where no breakpoint can sit. Reads now are left out of both: each mode reads what
 * it has been writing, and the steady state is what a feature settles into.
 */

export interface Boundary {
  /** Block index: the prefix through this block. */
  index: number;
  estimate: ReuseEstimate;
  /** A breakpoint can end here. */
  markable: boolean;
}

const UNSEEN: ReuseEstimate = { within5m: 0, within30m: 0, within1h: 0, ownGaps: 0, classEvidence: 0 };

/** Value of caching every segment between the write points, in tokens at the uncached input price. */
function segmentsValue(points: readonly Boundary[], cumulative: readonly number[], minimumTokens: number, ratios: PriceRatios): number {
  let value = 0;
  let previous = 0;
  for (const point of points) {
    const tokens = cumulative[point.index] ?? 0;
    // Below the minimum nothing is cached; those tokens join the first segment that is.
    if (tokens < minimumTokens || tokens <= previous) continue;
    value += (tokens - previous) * steadyValue(point.estimate, '30m', ratios);
    previous = tokens;
  }
  return value;
}

export interface ModeValues {
  /** Steady-state value per call of explicit mode with this plan, tokens at the uncached input price. */
  explicit: number;
  /** The same for implicit caching. */
  implicit: number;
  /**
   * Every position where the two modes differ (past the plan's last breakpoint, or where no breakpoint
   * can end) has an estimate backed by evidence. Implicit caching is what the client gets without
   * costgate, so it is left only on evidence that explicit mode pays more.
   */
  evidence: boolean;
}

/**
 * Both modes valued at the same positions (the candidate positions and the plan's own): implicit
 * caching writes at every one of them and at the end of the prompt; explicit mode caches only up to
 * the plan's last breakpoint, and only where a breakpoint can end (a segment ending where none can
 * takes the chance of the next position that can, never more).
 */
export function modeValues(boundaries: readonly Boundary[], plan: Plan, cumulative: readonly number[], minimumTokens: number, ratios: PriceRatios): ModeValues {
  const byIndex = new Map<number, Boundary>();
  for (const boundary of boundaries) byIndex.set(boundary.index, boundary);
  for (const placement of plan.placements) {
    if (byIndex.has(placement.index)) continue;
    const estimate = { within5m: placement.within5m, within30m: placement.within30m, within1h: placement.within1h, ownGaps: 0, classEvidence: 0 };
    byIndex.set(placement.index, { index: placement.index, estimate, markable: true });
  }
  const points = [...byIndex.values()].sort((a, b) => a.index - b.index);
  const end = cumulative.length - 1;
  // The prompt's own end is always an implicit write point; without an estimate of its own it counts
  // as never coming back (the pessimistic prior of prefix-statistics.ts).
  const implicitPoints = points.at(-1)?.index === end ? points : [...points, { index: end, estimate: UNSEEN, markable: false }];
  const lastMarker = plan.placements.at(-1)?.index ?? -1;
  const explicitPoints = points.filter((point) => point.markable && point.index <= lastMarker);
  const differing = implicitPoints.filter((point) => (point.index > lastMarker || !point.markable) && (cumulative[point.index] ?? 0) >= minimumTokens);
  return {
    explicit: segmentsValue(explicitPoints, cumulative, minimumTokens, ratios),
    implicit: segmentsValue(implicitPoints, cumulative, minimumTokens, ratios),
    evidence: differing.every((point) => hasEvidence(point.estimate)),
  };
}

/**
 * The truncation guard of one cap (a feature's answer cap, or its learned thinking budget).
 *
 * Raising is fast and lowering is slow, on purpose: a cap that cuts more than the threshold of the
 * calls it shaped is doubled at once (weak evidence is enough to stop hurting answers), while a
 * raise is undone only when the calls seen since show, at 95% confidence, that the lower cap would
 * have cut at most half the threshold. Every call under a raised cap is that evidence: its answer was
 * free to run to the raised cap, so whether it went past the lower one is observed, not guessed.
 * A truncating cap is never kept silently, and a raise that turned out unnecessary is never kept
 * forever either.
 */

/** The guard judges the last this-many shaped calls (more when the threshold needs it, below). */
export const GUARD_WINDOW = 200;
/** A share is never computed over fewer calls than this, so one early cut is not "100%". */
export const GUARD_MIN_DENOMINATOR = 100;

/**
 * The fewest calls a share is computed over: enough that two cuts alone never pass the threshold
 * (2 / threshold: 200 calls at 1%). Two cuts are weak evidence at any rate near the cap's target
 * (at 0.25%, two in 200 calls happen one time in ten), three are not (one in seventy); a cap that
 * really cuts 2% of answers still reaches three within the window most of the time.
 */
export function guardDenominator(threshold: number): number {
  return Math.max(GUARD_MIN_DENOMINATOR, Math.ceil(2 / threshold));
}
/** Calls under a raised cap needed before the lower cap is judged. */
export const LOWER_MIN_CALLS = 200;
/** The lower cap must cut at most this share of the threshold (upper 95% bound) to come back. */
const LOWER_SHARE_OF_THRESHOLD = 0.5;

export interface GuardState {
  /** 1 = cut by the cap (a real truncation), 0 = not, over the last GUARD_WINDOW shaped calls. */
  outcomes: number[];
  /** Multiplies the learned cap; doubled by each raise, halved by each step back. */
  boost: number;
  /** Calls seen under the current (raised) boost, and how many of them the cap at half the boost would have cut. */
  lowerCalls: number;
  lowerCuts: number;
}

export interface GuardOutcome {
  /** The cap cut this call's answer, and the answer was not a runaway. */
  cut: boolean;
  /** Whether the cap at half the boost would have cut it (undefined when the boost is 1: nothing to lower to). */
  lowerWouldCut: boolean | undefined;
}

export interface GuardChange {
  kind: 'raised' | 'lowered';
  /** Cuts counted (raise) or would-be cuts of the lower cap (lower). */
  count: number;
  /** Calls they were counted over. */
  calls: number;
  /** count / calls for a raise; the upper 95% bound of the lower cap's cut rate for a step back. */
  share: number;
  boostFrom: number;
  boostTo: number;
}

/** Bounds a restored window (a threshold of 0.1% needs 2000 calls). */
const MAX_SAVED_OUTCOMES = 2000;

export function newGuardState(): GuardState {
  return { outcomes: [], boost: 1, lowerCalls: 0, lowerCuts: 0 };
}

/** Rebuilds a saved state, dropping anything malformed. */
export function restoreGuardState(saved: Partial<GuardState> | undefined, legacyBoost?: number): GuardState {
  const boost = saved?.boost ?? legacyBoost;
  return {
    outcomes: Array.isArray(saved?.outcomes) ? saved.outcomes.slice(-MAX_SAVED_OUTCOMES).map((value) => (value ? 1 : 0)) : [],
    boost: typeof boost === 'number' && Number.isFinite(boost) && boost >= 1 ? boost : 1,
    lowerCalls: nonNegative(saved?.lowerCalls),
    lowerCuts: nonNegative(saved?.lowerCuts),
  };
}

function nonNegative(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.floor(value) : 0;
}

/**
 * The one-sided 95% upper bound on a Poisson mean after `count` events (exact, by bisection on the
 * CDF): 3.0 for none, 4.74 for one, 6.30 for two... Divided by the calls, it bounds a small rate.
 */
export function poissonUpperBound(count: number, confidence = 0.95): number {
  const cdf = (mean: number): number => {
    let term = Math.exp(-mean);
    let sum = term;
    for (let k = 1; k <= count; k += 1) {
      term *= mean / k;
      sum += term;
    }
    return sum;
  };
  let low = count;
  let high = count + 10 + 10 * Math.sqrt(count + 1);
  for (let step = 0; step < 60; step += 1) {
    const middle = (low + high) / 2;
    if (cdf(middle) > 1 - confidence) low = middle;
    else high = middle;
  }
  return high;
}

/** Counts one shaped call; returns the change when the cap is raised or brought back down. */
export function recordOutcome(state: GuardState, outcome: GuardOutcome, threshold: number): GuardChange | undefined {
  const denominator = guardDenominator(threshold);
  state.outcomes.push(outcome.cut ? 1 : 0);
  while (state.outcomes.length > Math.max(GUARD_WINDOW, denominator)) state.outcomes.shift();
  if (outcome.cut) {
    const count = state.outcomes.reduce((sum, value) => sum + value, 0);
    const share = count / Math.max(state.outcomes.length, denominator);
    if (share > threshold) {
      const change: GuardChange = { kind: 'raised', count, calls: state.outcomes.length, share, boostFrom: state.boost, boostTo: state.boost * 2 };
      state.boost *= 2;
      // Judged afresh under the new cap, so the same evidence neither raises it twice nor lowers it.
      state.outcomes = [];
      state.lowerCalls = 0;
      state.lowerCuts = 0;
      return change;
    }
  }
  if (state.boost > 1 && outcome.lowerWouldCut !== undefined) {
    state.lowerCalls += 1;
    if (outcome.lowerWouldCut) state.lowerCuts += 1;
    if (state.lowerCalls >= LOWER_MIN_CALLS) {
      const bound = poissonUpperBound(state.lowerCuts) / state.lowerCalls;
      if (bound <= threshold * LOWER_SHARE_OF_THRESHOLD) {
        const change: GuardChange = {
          kind: 'lowered',
          count: state.lowerCuts,
          calls: state.lowerCalls,
          share: bound,
          boostFrom: state.boost,
          boostTo: Math.max(1, state.boost / 2),
        };
        state.boost = change.boostTo;
        state.outcomes = [];
        state.lowerCalls = 0;
        state.lowerCuts = 0;
        return change;
      }
    }
  }
  return undefined;
}

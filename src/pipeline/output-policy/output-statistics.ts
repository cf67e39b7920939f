import { newGuardState, recordOutcome, restoreGuardState, type GuardOutcome, type GuardState } from './cap-guard.ts';
import { QuantileSketch, type SketchSnapshot } from './quantile-sketch.ts';

/**
 * What the output policy learns per feature, in process, so no ledger query sits on the request
 * path. Everything here is bounded: sketches have a fixed bucket range, models per feature and
 * features are capped (least recently seen dropped first), the guard keeps a fixed window.
 */

const MAX_FEATURES = 500;
const MAX_MODELS_PER_FEATURE = 16;
const MAX_REASONING_SETTINGS = 64;
const MAX_ALERTS = 50;
/** Unclamped calls a clamp's baseline needs before its saving is priced. */
const MIN_CLAMP_BASELINE = 5;
/** However heavy a feature's tail looks, a cap is never set further than this beyond its percentile. */
const MAX_TAIL_FACTOR = 10;
/** Anthropic's smallest thinking budget: a learned budget never goes below it. */
const MIN_THINKING_BUDGET = 1024;

export interface CapSettings {
  /** The percentile of the feature's own lengths a cap starts from (robust to rare runaways below 1 - percentile). */
  percentile: number;
  /** The least a cap is multiplied by above that percentile. */
  headroom: number;
  floor: number;
  minSamples: number;
  /**
   * The share of the feature's ordinary answers a learned cap is placed to cut: a fraction of the
   * truncation threshold, so noise alone seldom trips the guard.
   */
  targetTruncation: number;
}

export interface Observation {
  /** Answer tokens (output minus reasoning; all output when reasoning is not reported). */
  visible: number;
  /** Reasoning tokens when the provider reported them. */
  reasoning: number | undefined;
  model: string;
  /** No answer cap of ours applied (holdout, warm-up): its answer length feeds the cap's baseline. */
  uncapped: boolean;
  /** No reasoning clamp of ours applied: its reasoning feeds the clamp's baseline. */
  unclamped: boolean;
  /** The client's own reasoning setting (before any clamp), e.g. "effort:high". */
  reasoningSetting: string;
  /** The thinking budget the client asked for, when it enabled budgeted thinking. */
  thinkingBudget?: number | undefined;
  /** A cap stopped the answer in a repetition loop: its length is not an answer length. */
  runaway?: boolean | undefined;
}

/** What a cap's guard did, for alerts and the ledger. */
export interface GuardEvent {
  feature: string;
  /** The answer cap or the learned thinking budget. */
  cap: 'answer' | 'thinking';
  kind: 'raised' | 'lowered';
  /** Epoch ms. */
  at: number;
  /** Cuts counted (raise), or cuts the lower cap would have made (step back). */
  count: number;
  calls: number;
  share: number;
  boostFrom: number;
  boostTo: number;
}

/** A learned cap and what it would be one step lower (half the boost), for the guard's step back. */
export interface LearnedCap {
  value: number;
  /** Undefined when the cap is not raised. */
  lower: number | undefined;
}

interface FeatureState {
  visible: QuantileSketch;
  unshapedVisible: QuantileSketch;
  reasoning: Map<string, QuantileSketch>;
  unshapedReasoning: Map<string, QuantileSketch>;
  /** Thinking tokens of calls whose client enabled thinking with a budget, per model (for learned budgets). */
  thinking: Map<string, QuantileSketch>;
  answerGuard: GuardState;
  thinkingGuard: GuardState;
  seen: number;
  /** Runaway loops seen since start (kept out of the length sketches). */
  runaways: number;
  /** Per model: whether its last call reported reasoning apart (if not, `visible` already includes it). */
  reasoningReported: Map<string, boolean>;
}

export interface OutputStatisticsSnapshot {
  version: 1;
  features: Record<
    string,
    {
      visible: SketchSnapshot;
      unshapedVisible: SketchSnapshot;
      reasoning: Record<string, SketchSnapshot>;
      unshapedReasoning: Record<string, SketchSnapshot>;
      thinking?: Record<string, SketchSnapshot>;
      answerGuard?: GuardState;
      thinkingGuard?: GuardState;
      /** Earlier snapshots kept the answer guard in these two. */
      outcomes?: number[];
      boost?: number;
      reasoningReported?: Record<string, boolean>;
    }
  >;
  alerts: GuardEvent[];
}

/**
 * How far above its percentile a cap goes. The feature's own tail says how fast lengths thin out:
 * from the quantile one decade lower (p90 for p99) to the percentile, lengths grow by a ratio; a
 * tail that decays like a power law grows by that ratio again per further decade. The cap is put
 * as many decades beyond the percentile as it takes to reach the target share (1% to 0.25% is 0.6
 * of a decade), so a heavy-tailed feature gets more room than a tight one and its expected
 * truncation sits under the target. Light tails (log-normal and lighter) land further below it.
 */
export function tailFactor(sketch: QuantileSketch, settings: Pick<CapSettings, 'percentile' | 'headroom' | 'targetTruncation'>): number {
  const beyond = 1 - settings.percentile;
  const decades = Math.log10(beyond / settings.targetTruncation);
  const lowerPercentile = 1 - 10 * beyond;
  if (!(decades > 0) || lowerPercentile < 0.5) return settings.headroom;
  const upper = sketch.quantile(settings.percentile) ?? 0;
  const lower = sketch.quantile(lowerPercentile) ?? 0;
  if (upper <= 0 || lower <= 0) return settings.headroom;
  return Math.min(MAX_TAIL_FACTOR, Math.max(settings.headroom, (upper / lower) ** decades));
}

function learnedValue(sketch: QuantileSketch, settings: CapSettings, boost: number, floor: number): LearnedCap {
  const base = (sketch.quantile(settings.percentile) ?? 0) * tailFactor(sketch, settings);
  return {
    value: Math.max(floor, Math.ceil(base * boost)),
    lower: boost > 1 ? Math.max(floor, Math.ceil((base * boost) / 2)) : undefined,
  };
}

function touch<K, V>(map: Map<K, V>, key: K, create: () => V, limit: number): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    if (map.size >= limit) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
  } else map.delete(key);
  // Re-inserting keeps the map in least-recently-used order.
  map.set(key, value);
  return value;
}

function sketchRecord(map: Map<string, QuantileSketch>): Record<string, SketchSnapshot> {
  return Object.fromEntries([...map].map(([key, sketch]) => [key, sketch.toJSON()]));
}

function sketchMap(record: Record<string, SketchSnapshot> | undefined): Map<string, QuantileSketch> {
  return new Map(Object.entries(record ?? {}).map(([key, snapshot]) => [key, QuantileSketch.fromJSON(snapshot)]));
}

export class OutputStatistics {
  private readonly features = new Map<string, FeatureState>();
  private readonly events: GuardEvent[] = [];
  /** Set by every change; the store clears it when it has saved. */
  dirty = false;

  private state(feature: string): FeatureState {
    return touch(
      this.features,
      feature,
      () => ({
        visible: new QuantileSketch(),
        unshapedVisible: new QuantileSketch(),
        reasoning: new Map(),
        unshapedReasoning: new Map(),
        thinking: new Map(),
        answerGuard: newGuardState(),
        thinkingGuard: newGuardState(),
        seen: 0,
        runaways: 0,
        reasoningReported: new Map(),
      }),
      MAX_FEATURES,
    );
  }

  private peek(feature: string): FeatureState | undefined {
    return this.features.get(feature);
  }

  observe(feature: string, observation: Observation): void {
    const state = this.state(feature);
    if (observation.runaway) state.runaways += 1;
    else state.visible.add(observation.visible);
    touch(state.reasoningReported, observation.model, () => false, MAX_MODELS_PER_FEATURE);
    state.reasoningReported.set(observation.model, observation.reasoning !== undefined);
    if (observation.reasoning !== undefined) {
      touch(state.reasoning, observation.model, () => new QuantileSketch(), MAX_MODELS_PER_FEATURE).add(observation.reasoning);
      // Only calls that asked for budgeted thinking teach a thinking budget: a call without thinking
      // says nothing about how much a thinking call needs.
      if (observation.thinkingBudget !== undefined) {
        touch(state.thinking, observation.model, () => new QuantileSketch(), MAX_MODELS_PER_FEATURE).add(observation.reasoning);
      }
    }
    if (observation.uncapped && !observation.runaway) state.unshapedVisible.add(observation.visible);
    if (observation.unclamped) {
      if (observation.reasoning !== undefined) {
        const key = `${observation.model}|${observation.reasoningSetting}`;
        touch(state.unshapedReasoning, key, () => new QuantileSketch(), MAX_REASONING_SETTINGS).add(observation.reasoning);
      }
    }
    state.seen += 1;
    this.dirty = true;
  }

  /** The learned answer cap (and its step-back value), or undefined while the feature has fewer than minSamples calls. */
  answerCap(feature: string, settings: CapSettings): LearnedCap | undefined {
    const state = this.peek(feature);
    if (!state || state.visible.weight < settings.minSamples) return undefined;
    return learnedValue(state.visible, settings, state.answerGuard.boost, settings.floor);
  }

  /** The learned answer cap, or undefined while the feature has fewer than minSamples calls. */
  visibleCap(feature: string, settings: CapSettings): number | undefined {
    return this.answerCap(feature, settings)?.value;
  }

  /** Room to leave for reasoning the cap also bounds; undefined until enough calls of this model are seen. */
  reasoningRoom(feature: string, model: string, settings: CapSettings): number | undefined {
    // A provider that never breaks reasoning out (Bedrock Converse) had it counted in the answer
    // lengths already, so the learned answer cap covers it.
    if (this.peek(feature)?.reasoningReported.get(model) === false) return 0;
    const sketch = this.peek(feature)?.reasoning.get(model);
    if (!sketch || sketch.weight < settings.minSamples) return undefined;
    return learnedValue(sketch, settings, this.boost(feature), 0).value;
  }

  /**
   * A thinking budget learned from the thinking this feature's calls actually did with this model:
   * its own percentile with the same tail room as answers, never below Anthropic's 1024. Undefined
   * until minSamples thinking calls were seen. It trims budgets left far above what the task uses;
   * it does not cut the thinking the model ordinarily does (that is a quality call, a fixed clamp).
   */
  thinkingBudget(feature: string, model: string, settings: CapSettings): LearnedCap | undefined {
    const state = this.peek(feature);
    const sketch = state?.thinking.get(model);
    if (!state || !sketch || sketch.weight < settings.minSamples) return undefined;
    return learnedValue(sketch, settings, state.thinkingGuard.boost, MIN_THINKING_BUDGET);
  }

  /** The answer cap's guard boost (fixed caps are multiplied by it too). */
  /** Runaway loops recognised for this feature since the gateway started. */
  runaways(feature: string): number {
    return this.peek(feature)?.runaways ?? 0;
  }

  boost(feature: string): number {
    return this.peek(feature)?.answerGuard.boost ?? 1;
  }

  /**
   * The answer length a truncated call would have reached without our cap: the mean of the
   * unshaped calls that went past the same point. Undefined when none did.
   */
  expectedVisibleAbove(feature: string, observed: number): number | undefined {
    return this.peek(feature)?.unshapedVisible.meanAbove(observed);
  }

  /** Mean reasoning of unclamped calls with this model and client setting: the counterfactual of a clamp. */
  expectedReasoning(feature: string, model: string, setting: string): number | undefined {
    const sketch = this.peek(feature)?.unshapedReasoning.get(`${model}|${setting}`);
    return sketch && sketch.weight >= MIN_CLAMP_BASELINE ? sketch.mean() : undefined;
  }

  /**
   * Mean reasoning of the unclamped calls (this model and client setting) that went past `threshold`:
   * where a call that filled a lowered thinking budget would have gone. Undefined when none did.
   */
  expectedReasoningAbove(feature: string, model: string, setting: string, threshold: number): number | undefined {
    const sketch = this.peek(feature)?.unshapedReasoning.get(`${model}|${setting}`);
    return sketch && sketch.weight >= MIN_CLAMP_BASELINE ? sketch.meanAbove(threshold) : undefined;
  }

  /**
   * True while a clamp on this model and client setting has too few unclamped calls to price its
   * saving, and the model reports reasoning apart (or has not been seen yet): such calls are better
   * left alone until the baseline exists, else the clamp's saving goes unrecorded for a long time.
   */
  needsClampBaseline(feature: string, model: string, setting: string): boolean {
    const state = this.peek(feature);
    if (state?.reasoningReported.get(model) === false) return false;
    return (state?.unshapedReasoning.get(`${model}|${setting}`)?.weight ?? 0) < MIN_CLAMP_BASELINE;
  }

  /**
   * Counts one call whose answer cap (or thinking budget) we lowered. A raise doubles that cap at
   * once; a step back halves it once the calls under the raised cap show the lower one would keep
   * well inside the threshold. Either is returned for alerting and kept for the audit.
   */
  judge(feature: string, cap: GuardEvent['cap'], outcome: GuardOutcome, threshold: number, now: number): GuardEvent | undefined {
    const state = this.state(feature);
    const change = recordOutcome(cap === 'answer' ? state.answerGuard : state.thinkingGuard, outcome, threshold);
    this.dirty = true;
    if (!change) return undefined;
    const event: GuardEvent = { feature, cap, at: now, ...change };
    this.events.push(event);
    if (this.events.length > MAX_ALERTS) this.events.shift();
    return event;
  }

  alerts(): readonly GuardEvent[] {
    return this.events;
  }

  snapshot(): OutputStatisticsSnapshot {
    const features: OutputStatisticsSnapshot['features'] = {};
    for (const [feature, state] of this.features) {
      features[feature] = {
        visible: state.visible.toJSON(),
        unshapedVisible: state.unshapedVisible.toJSON(),
        reasoning: sketchRecord(state.reasoning),
        unshapedReasoning: sketchRecord(state.unshapedReasoning),
        thinking: sketchRecord(state.thinking),
        answerGuard: { ...state.answerGuard, outcomes: [...state.answerGuard.outcomes] },
        thinkingGuard: { ...state.thinkingGuard, outcomes: [...state.thinkingGuard.outcomes] },
        reasoningReported: Object.fromEntries(state.reasoningReported),
      };
    }
    return { version: 1, features, alerts: [...this.events] };
  }

  static fromSnapshot(snapshot: OutputStatisticsSnapshot | undefined): OutputStatistics {
    const statistics = new OutputStatistics();
    if (!snapshot || snapshot.version !== 1) return statistics;
    for (const [feature, saved] of Object.entries(snapshot.features ?? {}).slice(-MAX_FEATURES)) {
      statistics.features.set(feature, {
        visible: QuantileSketch.fromJSON(saved.visible),
        unshapedVisible: QuantileSketch.fromJSON(saved.unshapedVisible),
        reasoning: sketchMap(saved.reasoning),
        unshapedReasoning: sketchMap(saved.unshapedReasoning),
        thinking: sketchMap(saved.thinking),
        answerGuard: restoreGuardState(saved.answerGuard ?? { outcomes: saved.outcomes ?? [] }, saved.boost),
        thinkingGuard: restoreGuardState(saved.thinkingGuard),
        seen: 0,
        runaways: 0,
        reasoningReported: new Map(Object.entries(saved.reasoningReported ?? {})),
      });
    }
    // Alerts saved before guards could step back were all raises of the answer cap.
    for (const event of (snapshot.alerts ?? []).slice(-MAX_ALERTS)) {
      statistics.events.push({ ...event, cap: event.cap ?? 'answer', kind: event.kind ?? 'raised' });
    }
    return statistics;
  }
}

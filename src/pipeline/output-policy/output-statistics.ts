import { QuantileSketch, type SketchSnapshot } from './quantile-sketch.ts';

/**
 * What the output policy learns per feature, in process, so no ledger query sits on the request
 * path. Everything here is bounded: sketches have a fixed bucket range, models per feature and
 * features are capped (least recently seen dropped first), the guard keeps a fixed window.
 */

const MAX_FEATURES = 500;
const MAX_MODELS_PER_FEATURE = 16;
const MAX_REASONING_SETTINGS = 64;
/** The truncation guard judges the last this-many calls whose cap we lowered. */
const GUARD_WINDOW = 200;
/** A share is never computed over fewer calls than this, so one early truncation is not "100%". */
const GUARD_MIN_DENOMINATOR = 100;
const MAX_ALERTS = 50;

export interface CapSettings {
  percentile: number;
  headroom: number;
  floor: number;
  minSamples: number;
}

export interface Observation {
  /** Answer tokens (output minus reasoning; all output when reasoning is not reported). */
  visible: number;
  /** Reasoning tokens when the provider reported them. */
  reasoning: number | undefined;
  model: string;
  /** True when no cap or clamp of ours shaped this call (holdout, warm-up): it feeds the baselines. */
  unshaped: boolean;
  /** The client's own reasoning setting (before any clamp), e.g. "effort:high". */
  reasoningSetting: string;
}

export interface GuardRaise {
  feature: string;
  /** Epoch ms. */
  at: number;
  truncated: number;
  window: number;
  share: number;
  boostFrom: number;
  boostTo: number;
}

interface FeatureState {
  visible: QuantileSketch;
  unshapedVisible: QuantileSketch;
  reasoning: Map<string, QuantileSketch>;
  unshapedReasoning: Map<string, QuantileSketch>;
  outcomes: number[];
  /** Multiplies the cap; doubled each time the guard fires. */
  boost: number;
  seen: number;
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
      outcomes: number[];
      boost: number;
      reasoningReported?: Record<string, boolean>;
    }
  >;
  alerts: GuardRaise[];
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
  private readonly raises: GuardRaise[] = [];
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
        outcomes: [],
        boost: 1,
        seen: 0,
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
    state.visible.add(observation.visible);
    touch(state.reasoningReported, observation.model, () => false, MAX_MODELS_PER_FEATURE);
    state.reasoningReported.set(observation.model, observation.reasoning !== undefined);
    if (observation.reasoning !== undefined) {
      touch(state.reasoning, observation.model, () => new QuantileSketch(), MAX_MODELS_PER_FEATURE).add(observation.reasoning);
    }
    if (observation.unshaped) {
      state.unshapedVisible.add(observation.visible);
      if (observation.reasoning !== undefined) {
        const key = `${observation.model}|${observation.reasoningSetting}`;
        touch(state.unshapedReasoning, key, () => new QuantileSketch(), MAX_REASONING_SETTINGS).add(observation.reasoning);
      }
    }
    state.seen += 1;
    this.dirty = true;
  }

  /** The learned answer cap, or undefined while the feature has fewer than minSamples calls. */
  visibleCap(feature: string, settings: CapSettings): number | undefined {
    const state = this.peek(feature);
    if (!state || state.visible.weight < settings.minSamples) return undefined;
    const quantile = state.visible.quantile(settings.percentile) ?? 0;
    return Math.max(settings.floor, Math.ceil(quantile * settings.headroom * state.boost));
  }

  /** Room to leave for reasoning the cap also bounds; undefined until enough calls of this model are seen. */
  reasoningRoom(feature: string, model: string, settings: CapSettings): number | undefined {
    // A provider that never breaks reasoning out (Bedrock Converse) had it counted in the answer
    // lengths already, so the learned answer cap covers it.
    if (this.peek(feature)?.reasoningReported.get(model) === false) return 0;
    const sketch = this.peek(feature)?.reasoning.get(model);
    if (!sketch || sketch.weight < settings.minSamples) return undefined;
    return Math.ceil((sketch.quantile(settings.percentile) ?? 0) * settings.headroom * (this.peek(feature)?.boost ?? 1));
  }

  boost(feature: string): number {
    return this.peek(feature)?.boost ?? 1;
  }

  /**
   * The answer length a truncated call would have reached without our cap: the mean of the
   * unshaped calls that went past the same point. Undefined when none did.
   */
  expectedVisibleAbove(feature: string, observed: number): number | undefined {
    return this.peek(feature)?.unshapedVisible.meanAbove(observed);
  }

  /** Mean reasoning of unshaped calls with this model and client setting: the counterfactual of a clamp. */
  expectedReasoning(feature: string, model: string, setting: string): number | undefined {
    const sketch = this.peek(feature)?.unshapedReasoning.get(`${model}|${setting}`);
    return sketch && sketch.weight >= 5 ? sketch.mean() : undefined;
  }

  /**
   * Counts one call whose cap we lowered; when the share of those cut short by it passes the
   * threshold, the feature's caps are doubled at once and the raise is returned for alerting.
   */
  guard(feature: string, truncated: boolean, threshold: number, now: number): GuardRaise | undefined {
    const state = this.state(feature);
    state.outcomes.push(truncated ? 1 : 0);
    if (state.outcomes.length > GUARD_WINDOW) state.outcomes.shift();
    this.dirty = true;
    if (!truncated) return undefined;
    const count = state.outcomes.reduce((sum, outcome) => sum + outcome, 0);
    const share = count / Math.max(state.outcomes.length, GUARD_MIN_DENOMINATOR);
    if (share <= threshold) return undefined;
    const raise: GuardRaise = {
      feature,
      at: now,
      truncated: count,
      window: state.outcomes.length,
      share,
      boostFrom: state.boost,
      boostTo: state.boost * 2,
    };
    state.boost *= 2;
    // Judged afresh under the new cap, so the same evidence does not raise it twice.
    state.outcomes = [];
    this.raises.push(raise);
    if (this.raises.length > MAX_ALERTS) this.raises.shift();
    return raise;
  }

  alerts(): readonly GuardRaise[] {
    return this.raises;
  }

  snapshot(): OutputStatisticsSnapshot {
    const features: OutputStatisticsSnapshot['features'] = {};
    for (const [feature, state] of this.features) {
      features[feature] = {
        visible: state.visible.toJSON(),
        unshapedVisible: state.unshapedVisible.toJSON(),
        reasoning: sketchRecord(state.reasoning),
        unshapedReasoning: sketchRecord(state.unshapedReasoning),
        outcomes: [...state.outcomes],
        boost: state.boost,
        reasoningReported: Object.fromEntries(state.reasoningReported),
      };
    }
    return { version: 1, features, alerts: [...this.raises] };
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
        outcomes: Array.isArray(saved.outcomes) ? saved.outcomes.slice(-GUARD_WINDOW).map((value) => (value ? 1 : 0)) : [],
        boost: Number.isFinite(saved.boost) && saved.boost >= 1 ? saved.boost : 1,
        seen: 0,
        reasoningReported: new Map(Object.entries(saved.reasoningReported ?? {})),
      });
    }
    statistics.raises.push(...(snapshot.alerts ?? []).slice(-MAX_ALERTS));
    return statistics;
  }
}

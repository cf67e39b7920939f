/**
 * The workload for bench/output-policy.ts: five features with heavy-tailed answer lengths (log-normal,
 * plus rare runaway outputs that loop until a cap stops them) and, where a feature uses a thinking or
 * reasoning model, a log-normal reasoning length. Each call's natural lengths go to the emulator in
 * its x-emulator-* headers; the same seed gives the same calls in both runs.
 *
 * The waste is what the issue describes, each kind where a real client leaves it: no cap at all (the
 * model maximum: classify on OpenAI, summarize on Bedrock), reasoning on for tasks that need none (the
 * classifier at effort high, the extractor with extended thinking), extraction answered in prose where
 * JSON would do, and runaways. Features that need their reasoning (the agent) keep it as they use it.
 *
 * Structured answers: each call also has the length of the same answer written as the JSON object a
 * schema asks for (x-emulator-structured-reply-tokens; the emulator uses it only when a JSON format is
 * in force). For extraction that is the prose answer without its framing (a lead-in, field labels
 * written as sentences, closing notes): a share of the prose length drawn per call around
 * `structured.share`, an assumption, not a measurement. For the classifier, whose prose is already a
 * bare label, the JSON wrapper adds tokens. Runaways loop whatever the format.
 *
 * Runaways are what a model stuck in a loop writes: the same block of text again and again (sent to
 * the emulator as x-emulator-reply-loop), and it runs until a cap stops it: the client's cap, or when
 * the client sets none, the model's own output maximum (what OpenAI and Bedrock apply then). The
 * `realism` options turn either back off to replay the earlier workload (fresh prose, and a fixed
 * runawayTokens length where no cap stops the loop).
 */
import { modelOutputLimit } from '../src/providers/model-output-limits.ts';

export interface WorkloadRealism {
  /** Runaway answers repeat one block (true) or are fresh prose (false). */
  loops: boolean;
  /** Runaways without a client cap run to the model's output maximum (true) or stop at runawayTokens (false). */
  runToLimit: boolean;
}

export const REALISTIC: WorkloadRealism = { loops: true, runToLimit: true };

export type FeatureName = 'chat' | 'classify' | 'extract' | 'summarize' | 'agent';

export interface FeatureSpec {
  name: FeatureName;
  provider: 'openai' | 'anthropic' | 'bedrock';
  model: string;
  /** What the client sends as its own cap (undefined: none, the model maximum). */
  clientMaxTokens: number | undefined;
  answerMedian: number;
  answerSigma: number;
  /** Share of calls that run away (repeat themselves until a cap stops them). */
  runawayRate: number;
  /** How far a runaway goes when no cap stops it first (only with realism.runToLimit off). */
  runawayTokens: number;
  /** Reasoning tokens at the client's own setting (0: no reasoning). */
  reasoningMedian: number;
  reasoningSigma: number;
  /** Anthropic thinking budget the client sends. */
  thinkingBudget?: number;
  /** OpenAI reasoning_effort the client sends. */
  reasoningEffort?: string;
  /**
   * The answer as JSON under a schema: `share` (median, log-normal spread `sigma`) of the prose
   * length, plus `overhead` tokens of JSON syntax. Undefined: the feature's answers are prose by nature.
   */
  structured?: { share: number; sigma: number; overhead: number };
}

export const FEATURES: readonly FeatureSpec[] = [
  { name: 'chat', provider: 'openai', model: 'gpt-4o-mini', clientMaxTokens: 4096, answerMedian: 120, answerSigma: 0.9, runawayRate: 0.004, runawayTokens: 6000, reasoningMedian: 0, reasoningSigma: 0 },
  // A bare label in prose; as JSON, {"label":"..."} around it.
  { name: 'classify', provider: 'openai', model: 'o4-mini', clientMaxTokens: undefined, answerMedian: 6, answerSigma: 0.4, runawayRate: 0.003, runawayTokens: 3000, reasoningMedian: 900, reasoningSigma: 0.6, reasoningEffort: 'high', structured: { share: 1, sigma: 0, overhead: 4 } },
  // Extended thinking left on for field extraction, a few times the answer's length, well inside the budget.
  { name: 'extract', provider: 'anthropic', model: 'claude-sonnet-4-5', clientMaxTokens: 8192, answerMedian: 180, answerSigma: 0.5, runawayRate: 0.005, runawayTokens: 20000, reasoningMedian: 500, reasoningSigma: 0.6, thinkingBudget: 4096, structured: { share: 0.7, sigma: 0.15, overhead: 0 } },
  { name: 'summarize', provider: 'bedrock', model: 'anthropic.claude-haiku-4-5-20251001-v1:0', clientMaxTokens: undefined, answerMedian: 300, answerSigma: 0.6, runawayRate: 0.004, runawayTokens: 20000, reasoningMedian: 0, reasoningSigma: 0 },
  { name: 'agent', provider: 'anthropic', model: 'claude-sonnet-4-5', clientMaxTokens: 32000, answerMedian: 250, answerSigma: 0.7, runawayRate: 0.004, runawayTokens: 40000, reasoningMedian: 2500, reasoningSigma: 0.5, thinkingBudget: 8000 },
];

export interface WorkloadCall {
  feature: FeatureSpec;
  index: number;
  answerTokens: number;
  /** The same answer under a JSON schema (undefined: the feature has no structured form). */
  structuredTokens: number | undefined;
  reasoningTokens: number;
  runaway: boolean;
  /** For a looping runaway: the length of the repeated block, in tokens. */
  loopTokens: number | undefined;
}

/** mulberry32. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(next: () => number): number {
  return Math.sqrt(-2 * Math.log(next() || 1e-12)) * Math.cos(2 * Math.PI * next());
}

function logNormal(next: () => number, median: number, sigma: number): number {
  return Math.max(1, Math.round(median * Math.exp(sigma * normal(next))));
}

/** The emulator's longest reply. */
const EMULATOR_MAX_REPLY = 100_000;

function runawayLength(feature: FeatureSpec, realism: WorkloadRealism): number {
  if (!realism.runToLimit || feature.clientMaxTokens !== undefined) return feature.runawayTokens;
  return Math.min(modelOutputLimit(feature.model) ?? feature.runawayTokens, EMULATOR_MAX_REPLY);
}

/**
 * Calls per feature, interleaved round-robin so every feature learns at the same pace. The random
 * draws do not depend on `realism`, so the same seed gives the same calls in either workload.
 */
export function generateCalls(seed: number, callsPerFeature: number, realism: WorkloadRealism = REALISTIC): WorkloadCall[] {
  const next = random(seed);
  // Structured lengths come from their own stream, so adding them left every other draw as it was.
  const nextShare = random(seed ^ 0x9e3779b9);
  const calls: WorkloadCall[] = [];
  for (let index = 0; index < callsPerFeature; index += 1) {
    for (const feature of FEATURES) {
      const runaway = next() < feature.runawayRate;
      const answerTokens = runaway ? runawayLength(feature, realism) : logNormal(next, feature.answerMedian, feature.answerSigma);
      const structured = feature.structured;
      const share = structured ? structured.share * Math.exp(structured.sigma * normal(nextShare)) : 1;
      calls.push({
        feature,
        index,
        runaway,
        answerTokens,
        structuredTokens: structured === undefined ? undefined : runaway ? answerTokens : Math.max(1, Math.round(answerTokens * share)) + structured.overhead,
        reasoningTokens: feature.reasoningMedian > 0 ? logNormal(next, feature.reasoningMedian, feature.reasoningSigma) : 0,
        // A sentence or a few: loops repeat anything from a phrase to a paragraph.
        loopTokens: runaway && realism.loops ? 12 + ((index * 7) % 48) : undefined,
      });
    }
  }
  return calls;
}

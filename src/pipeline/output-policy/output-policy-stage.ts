import type { OutputPolicyConfig } from '../../config/output-policy-config.ts';
import type { LeverEffect } from '../../core/lever.ts';
import type { Usage } from '../../core/usage.ts';
import type { Pricer } from '../../pricing/pricer.ts';
import { modelOutputLimit } from '../../providers/model-output-limits.ts';
import { describeReasoning, type OutputControls, type ReasoningChange, type ReasoningClamp, type ReasoningRequest } from '../../providers/output-controls.ts';
import { outputControlsFor } from '../../providers/output-controls-registry.ts';
import type { CallContext } from '../context.ts';
import type { Stage } from '../stage.ts';
import { answerText, recordStreamTail, type StreamTail } from './answer-tail.ts';
import { guardDenominator } from './cap-guard.ts';
import { OutputStatistics, type GuardEvent, type LearnedCap } from './output-statistics.ts';
import { repetitionLoop } from './repetition.ts';
import { createPolicyResolver, type ResolvedPolicy } from './resolve-policy.ts';
import { defaultStatisticsPath, fileStatisticsStore, persistPeriodically, type OutputStatisticsStore } from './statistics-store.ts';

export interface OutputPolicyStageOptions {
  config: OutputPolicyConfig;
  pricer: Pricer;
  /** Where learned statistics are kept (beside the ledger). */
  dataDir: string;
  store?: OutputStatisticsStore;
  log?: (line: string) => void;
  /** For tests: decides holdout calls. */
  random?: () => number;
  /** For tests: how often statistics are saved (default 10 s). */
  persistIntervalMs?: number;
}

/** Stop reasons meaning "the output cap cut the answer": Chat, Responses, Anthropic and Bedrock. */
export function isLengthStop(stopReason: string | undefined): boolean {
  return stopReason === 'length' || stopReason === 'max_tokens' || stopReason === 'max_output_tokens';
}

/** What the stage did to one request, kept for the accounting once it has ended. */
interface Decision {
  feature: string | undefined;
  policy: ResolvedPolicy;
  controls: OutputControls;
  model: string;
  requested: { field: string; value: number } | undefined;
  /** `lowerAnswerCap`: the answer cap one guard step lower, when the cap is raised (for the step back). */
  applied: { field: string; value: number; answerCap: number; lowerAnswerCap: number | undefined; reasoningRoom: number } | undefined;
  reasoningChange: ReasoningChange | undefined;
  /** The client's reasoning before any clamp. */
  clientReasoning: ReasoningRequest;
  /** The client's reasoning setting before any clamp. */
  reasoningSetting: string;
  /** The learned thinking budget sent in place of the client's, when one was. */
  learnedThinking: LearnedCap | undefined;
  /** The thinking budget a clamp lowered the client's to (undefined when no budget was lowered). */
  clampedBudget?: number | undefined;
  schema: string | undefined;
  holdout: boolean;
  /** On a holdout call, the far cap that stops a loop short of the client's cap or the model maximum. */
  backstop?: { field: string; value: number } | undefined;
  skipped: string | undefined;
}

/**
 * Holdout calls keep a cap this many times the learned one: far beyond any ordinary answer (the
 * learned cap already sits past the feature's tail), so the holdout still measures the uncapped
 * lengths, while a holdout call stuck in a loop stops there instead of at the model's maximum.
 */
const HOLDOUT_BACKSTOP = 8;

/** Thinking at or above this share of its budget filled it (providers may stop a little short). */
const THINKING_BOUND_SHARE = 0.98;

function visibleTokens(usage: Usage): number | undefined {
  const total = usage.output.total;
  if (total === undefined) return undefined;
  return usage.output.text ?? Math.max(0, total - (usage.output.reasoning ?? 0));
}

function choiceCount(context: CallContext): number {
  const n = context.call.body?.['n'];
  return typeof n === 'number' && n > 1 ? n : 1;
}

/**
 * The output policy lever: per feature, a learned (or fixed) output cap that leaves room for
 * reasoning, reasoning clamps and a JSON schema; a truncation guard that raises a cap the moment
 * it cuts too many answers; and a saving whose counterfactual comes from calls it left alone.
 */
export function createOutputPolicyStage(options: OutputPolicyStageOptions): Stage & { close(): Promise<void> } {
  const { config, pricer } = options;
  if (!config.enabled) {
    return {
      name: 'output-policy',
      async run(context, next) {
        // Off: only note the client's cap for the ledger (the audit compares answers with it).
        const body = context.call.body;
        const requested = body ? outputControlsFor(context.call)?.maxTokens(body)?.value : undefined;
        if (requested !== undefined) context.outputCap = { requested, sent: requested };
        await next();
      },
      close: async () => {},
    };
  }
  const store = options.store ?? fileStatisticsStore(defaultStatisticsPath(options.dataDir));
  const statistics = OutputStatistics.fromSnapshot(store.load());
  const log = options.log ?? ((line: string) => console.warn(line));
  const random = options.random ?? Math.random;
  const stopPersisting = persistPeriodically(statistics, store, options.persistIntervalMs ?? 10_000, (error) =>
    log(`output-policy: could not save learned statistics: ${String(error)}`),
  );
  const policyFor = createPolicyResolver(config);

  /** Calls of an attributed feature under a length policy: their loops are told apart from answers. */
  function watchesLength(decision: Decision): boolean {
    return decision.applied !== undefined || (decision.feature !== undefined && decision.policy.maxTokens !== 'off');
  }

  /**
   * The cap bounds reasoning too on thinking models: keep the thinking budget (or the learned
   * reasoning length) inside it, so the answer is never the part that gets starved.
   */
  function reasoningRoom(decision: Decision, controls: OutputControls, body: Record<string, unknown>): number | undefined {
    const reasoning = controls.reasoning(body, decision.model);
    if (reasoning.thinking === 'enabled' && reasoning.budgetTokens !== undefined) return reasoning.budgetTokens;
    if (!controls.capIncludesReasoning(body, decision.model)) return 0;
    return decision.feature === undefined ? undefined : statistics.reasoningRoom(decision.feature, decision.model, decision.policy.cap);
  }

  function withBackstop(decision: Decision, controls: OutputControls, body: Record<string, unknown>): Decision {
    if (decision.feature === undefined || decision.policy.maxTokens !== 'learned') return decision;
    const answer = statistics.answerCap(decision.feature, decision.policy.cap);
    const room = answer === undefined ? undefined : reasoningRoom(decision, controls, body);
    if (answer === undefined || room === undefined) return decision;
    const value = answer.value * HOLDOUT_BACKSTOP + room;
    if (decision.requested !== undefined && decision.requested.value <= value) return decision;
    return { ...decision, backstop: { field: controls.setMaxTokens(body, decision.model, value), value } };
  }

  function decide(context: CallContext, controls: OutputControls, body: Record<string, unknown>): Decision {
    const feature = context.attribution.feature;
    const model = context.call.model ?? '';
    const policy = policyFor(feature);
    const requested = controls.maxTokens(body);
    const clientReasoning = controls.reasoning(body, model);
    const decision: Decision = {
      feature,
      policy,
      controls,
      model,
      requested,
      applied: undefined,
      reasoningChange: undefined,
      clientReasoning,
      reasoningSetting: describeReasoning(clientReasoning),
      learnedThinking: undefined,
      schema: undefined,
      holdout: random() < config.holdout,
      skipped: undefined,
    };
    // The schema is a format the client's code then parses, not a length lever to measure without:
    // holdout and baseline calls get it too, and the learned lengths are those of the JSON answers.
    if (policy.jsonSchema && !controls.choosesOwnFormat(body)) decision.schema = controls.applyJsonSchema(body, policy.jsonSchema);
    if (decision.holdout) return withBackstop(decision, controls, body);
    // The first calls of a clamped setting go untouched, so the clamp's saving has a baseline.
    const original =
      feature !== undefined && (policy.reasoning || policy.learnedThinking) && statistics.needsClampBaseline(feature, model, decision.reasoningSetting)
        ? structuredClone(body)
        : undefined;
    let clamp: ReasoningClamp | undefined = policy.reasoning;
    if (policy.learnedThinking && feature !== undefined && clientReasoning.thinking === 'enabled' && clientReasoning.budgetTokens !== undefined) {
      const learned = statistics.thinkingBudget(feature, model, policy.cap);
      if (learned && learned.value < clientReasoning.budgetTokens && learned.value < (clamp?.maxThinkingTokens ?? Infinity)) {
        clamp = { ...clamp, maxThinkingTokens: learned.value };
        decision.learnedThinking = learned;
      }
    }
    if (clamp) decision.reasoningChange = controls.clampReasoning(body, model, clamp);
    if (!decision.reasoningChange) decision.learnedThinking = undefined;
    else {
      const after = controls.reasoning(body, model);
      if (after.thinking === 'enabled' && after.budgetTokens !== undefined && after.budgetTokens < (clientReasoning.budgetTokens ?? Infinity)) {
        decision.clampedBudget = after.budgetTokens;
      }
    }
    if (decision.reasoningChange && original) {
      for (const key of Object.keys(body)) delete body[key];
      Object.assign(body, original);
      return withBackstop({ ...decision, reasoningChange: undefined, learnedThinking: undefined, clampedBudget: undefined, holdout: true }, controls, body);
    }

    let answer: LearnedCap | undefined;
    if (typeof policy.maxTokens === 'number') {
      const boost = feature ? statistics.boost(feature) : 1;
      answer = {
        value: Math.max(policy.cap.floor, Math.ceil(policy.maxTokens * boost)),
        lower: boost > 1 ? Math.max(policy.cap.floor, Math.ceil((policy.maxTokens * boost) / 2)) : undefined,
      };
    } else if (policy.maxTokens === 'learned') {
      // Unattributed calls mix unrelated tasks, so no length is learned for them.
      answer = feature === undefined ? undefined : statistics.answerCap(feature, policy.cap);
      if (answer === undefined) decision.skipped = feature === undefined ? 'no feature' : 'learning';
    }
    if (answer === undefined) return decision;

    const room = reasoningRoom(decision, controls, body);
    if (room === undefined) {
      decision.skipped = 'reasoning not learned yet';
      return decision;
    }
    const value = answer.value + room;
    if (requested !== undefined && requested.value <= value) {
      decision.skipped = 'client cap is lower';
      return decision;
    }
    const field = controls.setMaxTokens(body, model, value);
    decision.applied = { field, value, answerCap: answer.value, lowerAnswerCap: answer.lower, reasoningRoom: room };
    return decision;
  }

  function alert(event: GuardEvent): void {
    const what = event.cap === 'answer' ? 'answer cap' : 'learned thinking budget';
    const percent = (share: number) => `${(share * 100).toFixed(2)}%`;
    if (event.kind === 'raised') {
      const cutWhat = event.cap === 'answer' ? 'capped answers cut short (runaway loops aside)' : 'calls whose thinking filled the learned budget';
      log(
        `output-policy alert: feature "${event.feature}" had ${event.count} ${cutWhat} in its last ${event.calls} shaped calls ` +
          `(${percent(event.share)}, counted over at least ${guardDenominator(config.truncationThreshold)} > ${percent(config.truncationThreshold)}); its ${what} is raised ${event.boostTo}x at once`,
      );
    } else {
      log(
        `output-policy: feature "${event.feature}" ${what} back from ${event.boostFrom}x to ${event.boostTo}x: ` +
          `the lower one would have cut ${event.count} of the ${event.calls} calls since the raise (at most ${percent(event.share)} at 95% confidence)`,
      );
    }
  }

  function account(context: CallContext, decision: Decision, tail: StreamTail | undefined): void {
    const facts = context.facts;
    const usage = facts?.usage;
    const feature = context.attribution.feature;
    const status = context.result?.status ?? context.sink.status ?? 0;
    const served = facts?.servedModel ?? decision.model;
    const visible = usage ? visibleTokens(usage) : undefined;
    const ok = status >= 200 && status < 300 && facts?.errorType === undefined && usage !== undefined && visible !== undefined;
    const truncated = isLengthStop(facts?.stopReason);
    const capCut = (decision.applied !== undefined || decision.backstop !== undefined) && truncated;
    const shaped = decision.applied !== undefined || decision.reasoningChange !== undefined;
    // An answer a cap stopped (ours or the client's) that ends in a repetition loop is a runaway:
    // cutting it is what the cap is for, so it does not count against the truncation budget, its
    // baseline is the loop running on, and its length stays out of the feature's learned lengths
    // (else runaways above 1 - percentile of calls would drag the cap up to the client's).
    const text = truncated && ok && watchesLength(decision) ? answerText(context, tail) : undefined;
    const loop = text === undefined ? undefined : repetitionLoop(text);

    const events: GuardEvent[] = [];
    if (feature !== undefined && ok && choiceCount(context) === 1) {
      const clientThinking = decision.clientReasoning.thinking === 'enabled' ? decision.clientReasoning.budgetTokens : undefined;
      statistics.observe(feature, {
        visible,
        reasoning: usage.output.reasoning,
        model: decision.model,
        uncapped: decision.applied === undefined,
        unclamped: decision.reasoningChange === undefined,
        reasoningSetting: decision.reasoningSetting,
        thinkingBudget: clientThinking,
        runaway: loop !== undefined,
      });
      const now = Date.now();
      if (decision.applied) {
        const lower = decision.applied.lowerAnswerCap;
        const event = statistics.judge(
          feature,
          'answer',
          { cut: capCut && !loop, lowerWouldCut: lower === undefined ? undefined : !loop && visible > lower },
          config.truncationThreshold,
          now,
        );
        if (event) events.push(event);
      }
      const thinking = usage.output.reasoning;
      if (decision.learnedThinking && thinking !== undefined) {
        const { value, lower } = decision.learnedThinking;
        // Thinking that reached the budget was cut by it: the model wanted more.
        const event = statistics.judge(
          feature,
          'thinking',
          { cut: thinking >= value * THINKING_BOUND_SHARE, lowerWouldCut: lower === undefined ? undefined : thinking >= lower * THINKING_BOUND_SHARE },
          config.truncationThreshold,
          now,
        );
        if (event) events.push(event);
      }
    }
    for (const event of events) alert(event);
    // A loop the client's own cap stopped is recorded too: the audit shows what a cap would save.
    if (!shaped && decision.schema === undefined && loop === undefined && !capCut) return;

    const detail: Record<string, unknown> = { policy: decision.policy.name };
    if (decision.applied) {
      detail['maxTokens'] = {
        field: decision.applied.field,
        original: decision.requested?.value ?? null,
        applied: decision.applied.value,
        answerCap: decision.applied.answerCap,
        reasoningRoom: decision.applied.reasoningRoom,
      };
    }
    if (decision.backstop) detail['backstop'] = { field: decision.backstop.field, original: decision.requested?.value ?? null, applied: decision.backstop.value };
    if (decision.reasoningChange) {
      detail['reasoning'] = {
        original: decision.reasoningChange.from,
        applied: decision.reasoningChange.to,
        ...(decision.learnedThinking ? { learnedBudget: decision.learnedThinking.value } : {}),
      };
    }
    if (decision.schema) detail['jsonSchema'] = { name: decision.policy.jsonSchema?.name, via: decision.schema };
    if (truncated) detail['truncated'] = true;
    if (loop) detail['runaway'] = { kind: 'repetition', period: loop.period };
    for (const event of events) {
      const summary = { share: event.share, window: event.calls, boost: event.boostTo };
      // `truncationGuard` marks raises of the answer cap (the ledger counts them for the audit).
      if (event.cap === 'answer') detail[event.kind === 'raised' ? 'truncationGuard' : 'capLowered'] = summary;
      else detail[event.kind === 'raised' ? 'thinkingGuard' : 'thinkingLowered'] = summary;
    }

    let saving = 0n;
    let estimated = false;
    if (ok && (capCut || decision.reasoningChange)) {
      // The counterfactual comes from calls the policy left alone (holdout and warm-up): the answer
      // a cut call would have reached, and the reasoning the client's own setting spends. A loop
      // does not end by itself: without our cap it runs to the client's cap (or the model's limit).
      let baselineVisible = visible;
      if (capCut && feature !== undefined) baselineVisible = Math.max(visible, statistics.expectedVisibleAbove(feature, visible) ?? visible);
      let baselineReasoning = usage.output.reasoning ?? 0;
      if (decision.reasoningChange && feature !== undefined) {
        const budget = decision.clampedBudget;
        if (budget !== undefined && usage.output.reasoning !== undefined) {
          // A thinking budget is a ceiling: a call that thought less than it was not changed by it,
          // and one that filled it would have gone on as far as unclamped calls that passed it.
          if (usage.output.reasoning >= budget * THINKING_BOUND_SHARE) {
            baselineReasoning = Math.max(baselineReasoning, statistics.expectedReasoningAbove(feature, decision.model, decision.reasoningSetting, budget) ?? baselineReasoning);
          }
        } else {
          baselineReasoning = Math.max(baselineReasoning, statistics.expectedReasoning(feature, decision.model, decision.reasoningSetting) ?? baselineReasoning);
        }
      }
      let baselineOutput = Math.round(baselineVisible + baselineReasoning);
      const clientLimit = decision.requested?.value ?? (loop ? modelOutputLimit(decision.model) : undefined);
      if (loop && clientLimit !== undefined) baselineOutput = Math.max(baselineOutput, clientLimit);
      if (clientLimit !== undefined) baselineOutput = Math.min(baselineOutput, clientLimit);
      const actualOutput = usage.output.total ?? 0;
      if (baselineOutput > actualOutput) {
        const at = new Date(context.receivedAt);
        const provider = context.call.operation.provider;
        const actual = pricer.cost({ provider, model: served, usage, at });
        const baseline = pricer.cost({ provider, model: served, usage: { ...usage, output: { total: baselineOutput } }, at });
        if (actual && baseline) saving = baseline.cost - actual.cost;
        detail['baselineOutputTokens'] = baselineOutput;
      }
      estimated = true;
    }
    const effect: LeverEffect = { lever: 'output_policy', saving, estimated, detail };
    context.levers.push(effect);
  }

  return {
    name: 'output-policy',
    async run(context, next) {
      const body = context.call.body;
      const controls = body ? outputControlsFor(context.call) : undefined;
      if (!body || !controls) {
        await next();
        return;
      }
      const decision = decide(context, controls, body);
      const sent = decision.applied?.value ?? decision.backstop?.value ?? decision.requested?.value;
      if (decision.requested !== undefined || sent !== undefined) context.outputCap = { requested: decision.requested?.value, sent };
      if (decision.applied || decision.backstop || decision.reasoningChange || decision.schema) context.bodyChanged = true;
      // Streams a cap may stop are watched: their end tells a loop from an answer cut short.
      const tail = watchesLength(decision) ? recordStreamTail(context) : undefined;
      try {
        await next();
      } finally {
        account(context, decision, tail);
      }
    },
    close: stopPersisting,
  };
}

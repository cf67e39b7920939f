import type { OutputPolicyConfig } from '../../config/output-policy-config.ts';
import type { LeverEffect } from '../../core/lever.ts';
import type { Usage } from '../../core/usage.ts';
import type { Pricer } from '../../pricing/pricer.ts';
import { describeReasoning, type OutputControls, type ReasoningChange } from '../../providers/output-controls.ts';
import { outputControlsFor } from '../../providers/output-controls-registry.ts';
import type { CallContext } from '../context.ts';
import type { Stage } from '../stage.ts';
import { OutputStatistics, type GuardRaise } from './output-statistics.ts';
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
  policy: ResolvedPolicy;
  controls: OutputControls;
  model: string;
  requested: { field: string; value: number } | undefined;
  applied: { field: string; value: number; answerCap: number; reasoningRoom: number } | undefined;
  reasoningChange: ReasoningChange | undefined;
  /** The client's reasoning setting before any clamp. */
  reasoningSetting: string;
  schema: string | undefined;
  holdout: boolean;
  skipped: string | undefined;
}

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

  function decide(context: CallContext, controls: OutputControls, body: Record<string, unknown>): Decision {
    const feature = context.attribution.feature;
    const model = context.call.model ?? '';
    const policy = policyFor(feature);
    const requested = controls.maxTokens(body);
    const decision: Decision = {
      policy,
      controls,
      model,
      requested,
      applied: undefined,
      reasoningChange: undefined,
      reasoningSetting: describeReasoning(controls.reasoning(body, model)),
      schema: undefined,
      holdout: random() < config.holdout,
      skipped: undefined,
    };
    if (decision.holdout) return decision;
    if (policy.reasoning) decision.reasoningChange = controls.clampReasoning(body, model, policy.reasoning);
    if (policy.jsonSchema && !controls.choosesOwnFormat(body)) decision.schema = controls.applyJsonSchema(body, policy.jsonSchema);

    let answerCap: number | undefined;
    if (typeof policy.maxTokens === 'number') {
      answerCap = Math.max(policy.cap.floor, Math.ceil(policy.maxTokens * (feature ? statistics.boost(feature) : 1)));
    } else if (policy.maxTokens === 'learned') {
      // Unattributed calls mix unrelated tasks, so no length is learned for them.
      answerCap = feature === undefined ? undefined : statistics.visibleCap(feature, policy.cap);
      if (answerCap === undefined) decision.skipped = feature === undefined ? 'no feature' : 'learning';
    }
    if (answerCap === undefined) return decision;

    // The cap bounds reasoning too on thinking models: keep the thinking budget (or the learned
    // reasoning length) inside it, so the answer is never the part that gets starved.
    const reasoning = controls.reasoning(body, model);
    let room: number | undefined = 0;
    if (reasoning.thinking === 'enabled' && reasoning.budgetTokens !== undefined) room = reasoning.budgetTokens;
    else if (controls.capIncludesReasoning(body, model)) room = feature === undefined ? undefined : statistics.reasoningRoom(feature, model, policy.cap);
    if (room === undefined) {
      decision.skipped = 'reasoning not learned yet';
      return decision;
    }
    const value = answerCap + room;
    if (requested !== undefined && requested.value <= value) {
      decision.skipped = 'client cap is lower';
      return decision;
    }
    const field = controls.setMaxTokens(body, model, value);
    decision.applied = { field, value, answerCap, reasoningRoom: room };
    return decision;
  }

  function account(context: CallContext, decision: Decision): void {
    const facts = context.facts;
    const usage = facts?.usage;
    const feature = context.attribution.feature;
    const status = context.result?.status ?? context.sink.status ?? 0;
    const served = facts?.servedModel ?? decision.model;
    const visible = usage ? visibleTokens(usage) : undefined;
    const ok = status >= 200 && status < 300 && facts?.errorType === undefined && usage !== undefined && visible !== undefined;
    const truncated = isLengthStop(facts?.stopReason);
    const capCut = decision.applied !== undefined && truncated;
    const shaped = decision.applied !== undefined || decision.reasoningChange !== undefined;

    let raise: GuardRaise | undefined;
    if (feature !== undefined && ok && choiceCount(context) === 1) {
      statistics.observe(feature, {
        visible,
        reasoning: usage.output.reasoning,
        model: decision.model,
        unshaped: !shaped,
        reasoningSetting: decision.reasoningSetting,
      });
      if (decision.applied) raise = statistics.guard(feature, capCut, config.truncationThreshold, Date.now());
    }
    if (raise) {
      log(
        `output-policy alert: feature "${raise.feature}" had ${raise.truncated} of the last ${raise.window} capped answers cut short ` +
          `(${(raise.share * 100).toFixed(1)}% > ${(config.truncationThreshold * 100).toFixed(1)}%); its caps are raised ${raise.boostTo}x at once`,
      );
    }
    if (!shaped && decision.schema === undefined) return;

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
    if (decision.reasoningChange) detail['reasoning'] = { original: decision.reasoningChange.from, applied: decision.reasoningChange.to };
    if (decision.schema) detail['jsonSchema'] = { name: decision.policy.jsonSchema?.name, via: decision.schema };
    if (truncated) detail['truncated'] = true;
    if (raise) detail['truncationGuard'] = { share: raise.share, window: raise.window, boost: raise.boostTo };

    let saving = 0n;
    let estimated = false;
    if (ok && (capCut || decision.reasoningChange)) {
      // The counterfactual comes from calls the policy left alone (holdout and warm-up): the answer
      // a cut call would have reached, and the reasoning the client's own setting spends.
      let baselineVisible = visible;
      if (capCut && feature !== undefined) baselineVisible = Math.max(visible, statistics.expectedVisibleAbove(feature, visible) ?? visible);
      let baselineReasoning = usage.output.reasoning ?? 0;
      if (decision.reasoningChange && feature !== undefined) {
        baselineReasoning = Math.max(baselineReasoning, statistics.expectedReasoning(feature, decision.model, decision.reasoningSetting) ?? baselineReasoning);
      }
      let baselineOutput = Math.round(baselineVisible + baselineReasoning);
      if (decision.requested) baselineOutput = Math.min(baselineOutput, decision.requested.value);
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
      const sent = decision.applied?.value ?? decision.requested?.value;
      if (decision.requested !== undefined || sent !== undefined) context.outputCap = { requested: decision.requested?.value, sent };
      if (decision.applied || decision.reasoningChange || decision.schema) context.bodyChanged = true;
      try {
        await next();
      } finally {
        account(context, decision);
      }
    },
    close: stopPersisting,
  };
}

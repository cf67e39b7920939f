import type { LeverEffect } from '../../core/lever.ts';
import { redactAll } from '../../core/redaction.ts';
import type { Pricer } from '../../pricing/pricer.ts';
import type { RoutingView } from '../../providers/routing-view.ts';
import type { CallContext, ExtraUpstreamCall } from '../context.ts';
import { buildUsageEvent, type UsageSink } from '../record-usage/record-usage-stage.ts';
import type { Next } from '../stage.ts';
import { readGrade } from './answer-checks.ts';
import { BufferingSink, runAttempt } from './attempt.ts';
import type { OutcomeSink } from './router-stage.ts';

export const SHADOW_JUDGE_INSTRUCTION =
  'You compare two answers to the same question. The first is a reference from a strong model; the second is a candidate. Reply with exactly one line of the form "Confidence: X", where X is a number from 0 to 1 giving the probability that the candidate is as correct and useful as the reference.';

const SHADOW_TIMEOUT_MS = 120_000;

export interface ShadowOptions {
  parent: CallContext;
  next: Next;
  view: RoutingView;
  cheapModel: string;
  strongModel: string;
  cheapAnswer: string;
  prompt: string;
  capturePrompt: boolean;
  feature: string | undefined;
  judge: string | undefined;
  pricer: Pricer;
  usage: UsageSink;
  outcomes?: OutcomeSink;
  log?: (line: string) => void;
}

/** Word-set overlap of two answers (Jaccard), the fallback grade when no judge is configured. */
export function answerSimilarity(first: string, second: string): number {
  const words = (text: string) => new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
  const a = words(first);
  const b = words(second);
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  for (const word of a) if (b.has(word)) shared += 1;
  return shared / (a.size + b.size - shared);
}

/**
 * Sends a cheap-routed call to the strongest tier as well, after the client has its answer, and
 * records how the cheap answer compared as an outcome (training data). The shadow call and its
 * judge are billed on their own ledger row (route "shadow"), whose routing lever shows their cost
 * as a negative saving: learning costs money, and the ledger says how much.
 */
export function launchShadow(options: ShadowOptions): Promise<void> {
  return runShadow(options).catch((error: unknown) => options.log?.(`router shadow call for ${options.parent.requestId} failed: ${String(error)}`));
}

async function runShadow(options: ShadowOptions): Promise<void> {
  const { parent, view } = options;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), SHADOW_TIMEOUT_MS);
  timer.unref();
  try {
    const call = view.withModel(parent.call, options.strongModel);
    const strong = await runAttempt(parent, options.next, call, { probe: true, sink: new BufferingSink(), signal: controller.signal });
    const strongAnswer = strong.status < 300 && strong.body ? view.readAnswer(call, strong.body)?.text : undefined;
    const extraCalls: ExtraUpstreamCall[] = [];
    let score: number | undefined;
    let method: string | undefined;
    if (strongAnswer !== undefined) {
      if (options.judge) {
        const judgeCall = view.judgeCall(parent.call, options.judge, SHADOW_JUDGE_INSTRUCTION, options.prompt, `Reference answer:\n${strongAnswer}\n\nCandidate answer:\n${options.cheapAnswer}`);
        const judged = await runAttempt(parent, options.next, judgeCall, { probe: true, sink: new BufferingSink(), signal: controller.signal });
        extraCalls.push({ model: options.judge, usage: judged.facts?.usage, purpose: 'judge' });
        score = judged.status < 300 && judged.body ? readGrade(view.readAnswer(judgeCall, judged.body)?.text ?? '') : undefined;
        method = 'judge';
      } else {
        score = answerSimilarity(options.cheapAnswer, strongAnswer);
        method = 'similarity';
      }
    }

    // The shadow's own ledger row: what learning cost, attributed like the call it shadows.
    const child = strong.child;
    child.extraCalls = extraCalls;
    child.route = `shadow:${options.strongModel}`;
    if (child.facts && child.facts.servedModel === undefined) child.facts = { ...child.facts, servedModel: options.strongModel };
    child.levers = [];
    const event = buildUsageEvent({ ...child, requestId: `${parent.requestId}:shadow` }, options.pricer);
    if (event.cost !== undefined) {
      const effect: LeverEffect = { lever: 'routing', saving: -event.cost, estimated: false, detail: { shadowOf: parent.requestId, cheapModel: options.cheapModel, method, score } };
      event.levers = [effect];
      event.baselineCost = 0n;
    }
    options.usage.record(event);

    if (score !== undefined && options.outcomes) {
      await options.outcomes.recordOutcomes([
        {
          requestId: parent.requestId,
          time: Date.now(),
          source: 'shadow',
          model: options.cheapModel,
          score: Math.min(1, Math.max(0, score)),
          feature: options.feature,
          prompt: options.capturePrompt && options.prompt ? redactAll(options.prompt) : undefined,
          referenceModel: options.strongModel,
          detail: { method, ...(options.judge ? { judge: options.judge } : {}), shadowCost: event.cost?.toString() ?? null },
        },
      ]);
    }
  } finally {
    clearTimeout(timer);
  }
}

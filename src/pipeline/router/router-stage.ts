import type { RouterConfig } from '../../config/router-config.ts';
import type { LeverEffect } from '../../core/lever.ts';
import type { Picodollars } from '../../core/money.ts';
import type { Outcome } from '../../core/outcome.ts';
import { redactAll } from '../../core/redaction.ts';
import type { Usage } from '../../core/usage.ts';
import type { Pricer } from '../../pricing/pricer.ts';
import { routingView, type RoutingView } from '../../providers/routing-view.ts';
import type { CallContext, ExtraUpstreamCall, HeaderMap } from '../context.ts';
import type { UsageSink } from '../record-usage/record-usage-stage.ts';
import type { Next, Stage } from '../stage.ts';
import { CONFIDENCE_INSTRUCTION, JUDGE_INSTRUCTION, readConfidence, readGrade, scoreAnswer, type AnswerScore } from './answer-checks.ts';
import { adoptAttempt, BufferingSink, replayStream, runAttempt, withHeaders } from './attempt.ts';
import { HeaderAddingSink } from '../wrapping-sink.ts';
import type { RecentCalls } from './recent-calls.ts';
import { classify, createPolicyResolver, type ResolvedPolicy } from './router-policy.ts';
import { launchShadow } from './shadow.ts';

export const SERVED_MODEL_HEADER = 'x-costgate-model';
export const ROUTE_HEADER = 'x-costgate-route';

export interface OutcomeSink {
  recordOutcomes(outcomes: readonly Outcome[]): Promise<void>;
}

export interface RouterStageOptions {
  config: RouterConfig;
  pricer: Pricer;
  /** Where shadow calls' own ledger rows go. */
  usage: UsageSink;
  outcomes?: OutcomeSink;
  recentCalls?: RecentCalls;
  /** Folder that relative classifier file paths are read from. */
  baseDir: string;
  random?: () => number;
  log?: (line: string) => void;
  /** The gateway runs these on shutdown: shadow calls still in flight are awaited, so their rows are recorded. */
  closers?: Array<() => Promise<void>>;
}

/** One upstream call made for a routed request, as the ledger detail shows it. */
interface AttemptRecord {
  model: string;
  role: 'answer' | 'judge';
  status: number;
  latencyMs: number;
  cost: string | null;
  score?: number;
  reasons?: string[];
  signals?: AnswerScore['signals'];
}

function price(pricer: Pricer, context: CallContext, model: string, usage: Usage | undefined): Picodollars | undefined {
  // A failed call that reported no usage is not billed.
  if (!usage) return 0n;
  return pricer.cost({ provider: context.call.operation.provider, model, usage, at: new Date(context.receivedAt) })?.cost;
}

/**
 * Model routing: per feature, a classifier picks the cheapest tier likely to answer well, a cascade
 * calls the cheap tier first and escalates when its answer scores below the threshold, or both.
 * Each attempt runs the rest of the pipeline on its own child context; the client gets the answer
 * of the attempt that was accepted, in the format it asked for, with the served model in a header.
 */
export function createRouterStage(options: RouterStageOptions): Stage {
  if (!options.config.enabled) return { name: 'router', run: (_context, next) => next() };
  const policyFor = createPolicyResolver(options.config, options.baseDir);
  const random = options.random ?? Math.random;
  const shadows = new Set<Promise<void>>();
  options.closers?.push(async () => {
    await Promise.allSettled([...shadows]);
  });

  return {
    name: 'router',
    async run(context, next) {
      const requested = context.call.model;
      const policy = policyFor(context.attribution.feature);
      if (!policy || !requested || !policy.tiers.includes(requested)) return next();
      const view = routingView(context.call);
      if (!view) return next();
      await route(context, next, policy, view, requested);
    },
  };

  async function route(context: CallContext, next: Next, policy: ResolvedPolicy, view: RoutingView, requested: string): Promise<void> {
    const { tiers } = policy;
    const prompt = view.promptText(context.call) ?? '';
    let start = 0;
    let cascade = policy.strategy !== 'classifier';
    let probabilities: Record<string, number> | undefined;
    if (policy.classifier) {
      const choice = classify(policy, prompt);
      probabilities = choice.probabilities;
      start = choice.index;
      // classifier+cascade: prompts predicted hard go straight to the strongest tier.
      if (start === tiers.length - 1) cascade = false;
    }
    const settings = policy.cascade;
    const attempts: AttemptRecord[] = [];
    const extraCalls: ExtraUpstreamCall[] = [];
    const tried: string[] = [];
    let served = tiers[start] as string;
    let streamBufferMs: number | undefined;
    let cheapAnswer: string | undefined;

    for (let index = start; index < tiers.length; index += 1) {
      const model = tiers[index] as string;
      tried.push(model);
      const label = `${policy.strategy}:${tried.join('>')}`;
      const extra: HeaderMap = { [SERVED_MODEL_HEADER]: model, [ROUTE_HEADER]: label };
      const call = view.withModel(context.call, model);
      served = model;

      if (!cascade || index === tiers.length - 1) {
        const result = await runAttempt(context, next, call, { probe: false, sink: new HeaderAddingSink(context.sink, extra) });
        adoptAttempt(context, result.child, model);
        if (context.result) context.result = withHeaders(context.result, extra);
        attempts.push({ model, role: 'answer', status: result.status, latencyMs: round(result.latencyMs), cost: money(price(options.pricer, context, model, result.facts?.usage)) });
        break;
      }

      // A probe: the cheap tier's answer is held until it is scored.
      const addedLogprobs = settings.logprobs && !call.stream && !view.clientWantsLogprobs(call) && view.requestLogprobs(call);
      const json = settings.checks ? view.jsonRequirement(call) : undefined;
      const askConfidence = settings.confidence && !call.stream && !json;
      if (askConfidence) view.addInstruction(call, CONFIDENCE_INSTRUCTION);
      const result = await runAttempt(context, next, call, { probe: true });
      const record: AttemptRecord = { model, role: 'answer', status: result.status, latencyMs: round(result.latencyMs), cost: money(price(options.pricer, context, model, result.facts?.usage)) };
      attempts.push(record);
      if (context.signal.aborted) {
        adoptAttempt(context, result.child, model);
        break;
      }
      const succeeded = result.status >= 200 && result.status < 300 && !result.facts?.errorType && !result.buffer?.aborted && result.body !== undefined;
      const answer = succeeded && result.body ? view.readAnswer(call, result.body) : undefined;
      let score: AnswerScore;
      let confidenceLength = 0;
      if (!answer) {
        score = { score: 0, reasons: [succeeded ? 'unreadable' : `error ${result.status}${result.facts?.errorType ? ` ${result.facts.errorType}` : ''}`], signals: {} };
      } else {
        const confidence = askConfidence ? readConfidence(answer.text) : undefined;
        confidenceLength = confidence?.length ?? 0;
        const text = answer.text.slice(0, answer.text.length - confidenceLength);
        const judge = settings.judge ? await runJudge(context, next, view, settings.judge, prompt, text, attempts, extraCalls) : undefined;
        score = scoreAnswer({
          answer: { ...answer, text },
          json,
          confidence: confidence?.value,
          judge,
          useLogprobs: settings.logprobs,
          checks: settings.checks,
          unsurePatterns: settings.unsurePatterns,
        });
        cheapAnswer = text;
      }
      record.score = round(score.score);
      record.reasons = score.reasons;
      record.signals = score.signals;
      if (answer && score.score >= settings.threshold) {
        adoptAttempt(context, result.child, model);
        if (result.buffer) {
          const replayAt = performance.now();
          if (result.firstByteAt !== undefined) streamBufferMs = round(replayAt - result.firstByteAt);
          context.firstByteAt = replayAt;
          await replayStream(context.sink, result.status, { ...result.buffer.headers, ...extra }, result.buffer.chunks, context.signal);
        } else if (context.result) {
          const edited = confidenceLength > 0 || addedLogprobs ? view.rewriteBody(call, context.result.body, { trimEnd: confidenceLength, dropLogprobs: addedLogprobs }) : undefined;
          context.result = withHeaders(context.result, extra, edited);
        }
        break;
      }
      extraCalls.push({ model, usage: result.facts?.usage, purpose: 'escalated' });
    }

    const label = `${policy.strategy}:${tried.join('>')}`;
    context.route = label;
    if (extraCalls.length > 0) context.extraCalls = [...(context.extraCalls ?? []), ...extraCalls];
    pushLever(context, policy, requested, served, label, attempts, extraCalls, probabilities, streamBufferMs);

    const succeeded = (context.result?.status ?? context.sink.status ?? 0) < 300 && !context.facts?.errorType;
    if (policy.capturePrompts && options.recentCalls && succeeded) {
      options.recentCalls.remember(context.requestId, {
        model: served,
        feature: policy.feature,
        // Kept for training once feedback arrives: credentials, emails and card numbers never are.
        prompt: prompt ? redactAll(prompt) : undefined,
        tiers,
        apiKeyId: context.attribution.apiKeyId,
      });
    }
    const strongest = tiers.at(-1) as string;
    // A shadow comparison needs the cheap answer's text: a cascade has it; a classifier-routed call
    // has it when not streamed (a live stream is not kept). Without it no strong call is paid for.
    const servedAnswer = cheapAnswer ?? (context.result ? view.readAnswer(context.call, context.result.body)?.text : undefined);
    if (succeeded && served !== strongest && servedAnswer !== undefined && policy.shadowRate > 0 && random() < policy.shadowRate) {
      const shadow = launchShadow({
        parent: context,
        next,
        view,
        cheapModel: served,
        strongModel: strongest,
        cheapAnswer: servedAnswer,
        prompt,
        capturePrompt: policy.capturePrompts,
        feature: policy.feature,
        judge: policy.shadowJudge,
        pricer: options.pricer,
        usage: options.usage,
        ...(options.outcomes ? { outcomes: options.outcomes } : {}),
        ...(options.log ? { log: options.log } : {}),
      });
      shadows.add(shadow);
      void shadow.finally(() => shadows.delete(shadow));
    }
  }

  /** Asks the judge model to grade the cheap answer; its call is billed to this request. */
  async function runJudge(
    context: CallContext,
    next: Next,
    view: RoutingView,
    judgeModel: string,
    question: string,
    answer: string,
    attempts: AttemptRecord[],
    extraCalls: ExtraUpstreamCall[],
  ): Promise<number | undefined> {
    const call = view.judgeCall(context.call, judgeModel, JUDGE_INSTRUCTION, question, answer);
    const result = await runAttempt(context, next, call, { probe: true, sink: new BufferingSink() });
    extraCalls.push({ model: judgeModel, usage: result.facts?.usage, purpose: 'judge' });
    const grade = result.status < 300 && result.body ? readGrade(view.readAnswer(call, result.body)?.text ?? '') : undefined;
    attempts.push({ model: judgeModel, role: 'judge', status: result.status, latencyMs: round(result.latencyMs), cost: money(price(options.pricer, context, judgeModel, result.facts?.usage)), ...(grade !== undefined ? { score: grade } : {}) });
    return grade;
  }

  function pushLever(
    context: CallContext,
    policy: ResolvedPolicy,
    requested: string,
    served: string,
    label: string,
    attempts: AttemptRecord[],
    extraCalls: readonly ExtraUpstreamCall[],
    probabilities: Record<string, number> | undefined,
    streamBufferMs: number | undefined,
  ): void {
    const usage = context.facts?.usage;
    const finalCost = price(options.pricer, context, served, usage);
    const sum = (purpose: ExtraUpstreamCall['purpose']): Picodollars | undefined => {
      let total: Picodollars | undefined = 0n;
      for (const extra of extraCalls) {
        if (extra.purpose !== purpose) continue;
        const cost = price(options.pricer, context, extra.model, extra.usage);
        total = cost === undefined || total === undefined ? undefined : total + cost;
      }
      return total;
    };
    const escalationCost = sum('escalated');
    const judgeCost = sum('judge');
    const extraCost = escalationCost === undefined || judgeCost === undefined ? undefined : escalationCost + judgeCost;
    // Baseline: the model the client asked for, priced on the tokens actually observed (an estimate).
    const baseline = usage ? price(options.pricer, context, requested, usage) : undefined;
    const detail: Record<string, unknown> = {
      strategy: policy.strategy,
      route: label,
      requestedModel: requested,
      servedModel: served,
      tiers: policy.tiers,
      escalations: extraCalls.filter((extra) => extra.purpose === 'escalated').length,
      escalationCost: money(escalationCost),
      attempts,
    };
    if (extraCalls.some((extra) => extra.purpose === 'judge')) detail.judgeCost = money(judgeCost);
    if (policy.strategy !== 'classifier') detail.threshold = policy.cascade.threshold;
    if (probabilities) detail.predicted = Object.fromEntries(Object.entries(probabilities).map(([model, value]) => [model, round(value)]));
    if (streamBufferMs !== undefined) detail.streamBufferMs = streamBufferMs;
    // Without a price for every call involved there is no saving to state; the route column remains.
    if (baseline === undefined || finalCost === undefined || extraCost === undefined) return;
    const effect: LeverEffect = { lever: 'routing', saving: baseline - finalCost - extraCost, estimated: true, detail };
    context.levers.push(effect);
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function money(value: Picodollars | undefined): string | null {
  return value === undefined ? null : value.toString();
}

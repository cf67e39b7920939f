import type { UsageEvent } from '../../core/usage-event.ts';
import { emptyUsage } from '../../core/usage.ts';
import { cacheAccounting } from '../../pricing/cache-accounting.ts';
import type { Pricer } from '../../pricing/pricer.ts';
import type { CallContext } from '../context.ts';
import type { Stage } from '../stage.ts';

/** The W3C trace context headers the client sent, so a span exported for the call joins the client's trace. */
export interface IncomingTraceContext {
  traceparent?: string;
  tracestate?: string;
}

export interface UsageSink {
  /**
   * Must not lose the event once it returns (the recorder spools it before returning). `trace` is
   * for exporters only: it is not part of the ledger row.
   */
  record(event: UsageEvent, trace?: IncomingTraceContext): void;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** `traceparent` and `tracestate` from the incoming request, undefined when the client sent none. */
export function incomingTraceContext(headers: Readonly<Record<string, string | string[] | undefined>>): IncomingTraceContext | undefined {
  const traceparent = firstHeader(headers['traceparent']);
  if (traceparent === undefined) return undefined;
  const tracestate = firstHeader(headers['tracestate']);
  return tracestate === undefined ? { traceparent } : { traceparent, tracestate };
}

const NOT_BILLED = 'not-billed';

/** Cost of the extra upstream calls a routing stage made for this request; undefined if one is unpriced. */
function extraCallsCost(context: CallContext, pricer: Pricer): bigint | undefined {
  let total = 0n;
  for (const extra of context.extraCalls ?? []) {
    if (!extra.usage) continue;
    const cost = pricer.cost({ provider: context.call.operation.provider, model: extra.model, usage: extra.usage, at: new Date(context.receivedAt) })?.cost;
    if (cost === undefined) return undefined;
    total += cost;
  }
  return total;
}

/** Providers do not bill a failed call that reported no usage, so its cost is a known zero, not unpriced. */
function priceCall(context: CallContext, pricer: Pricer, model: string | undefined, status: number) {
  const usage = context.facts?.usage;
  const extra = extraCallsCost(context, pricer);
  if (!usage) {
    return status >= 400 || status === 0 ? { cost: extra, priceVersion: NOT_BILLED } : { cost: undefined, priceVersion: undefined };
  }
  if (!model) return { cost: undefined, priceVersion: undefined };
  const input = { provider: servedProvider(context), model, usage, at: new Date(context.receivedAt) };
  const result = pricer.cost(input);
  // A cascade's escalated attempts and judges are part of what this request cost.
  context.cost = result && context.extraCalls?.length ? (extra === undefined ? undefined : { ...result, cost: result.cost + extra }) : result;
  return { cost: context.cost?.cost, priceVersion: result?.priceVersion, cache: result ? cacheAccounting(pricer, input, result.cost) : undefined };
}

/** The provider that answered: the one asked for, or the alternate a fallback went to. */
function servedProvider(context: CallContext) {
  return context.resilience?.servedBy?.provider ?? context.call.operation.provider;
}

export function buildUsageEvent(context: CallContext, pricer: Pricer): UsageEvent {
  const facts = context.facts;
  const status = context.result?.status ?? context.sink.status ?? 0;
  const servedModel = facts?.servedModel ?? context.call.model;
  const { cost, priceVersion, cache } = priceCall(context, pricer, servedModel, status);
  const now = performance.now();
  const levers = context.levers;
  const event: UsageEvent = {
    requestId: context.requestId,
    time: context.receivedAt,
    provider: servedProvider(context),
    endpoint: context.call.operation.endpoint,
    requestedModel: context.call.model,
    servedModel,
    attribution: context.attribution,
    stream: context.call.stream,
    status: facts?.errorType === 'client_aborted' ? 499 : status,
    errorType: facts?.errorType,
    latencyMs: Math.round((now - context.startedAt) * 1000) / 1000,
    ttfbMs: context.firstByteAt === undefined ? undefined : Math.round((context.firstByteAt - context.startedAt) * 1000) / 1000,
    usage: facts?.usage ?? emptyUsage(),
    stopReason: facts?.stopReason,
    cost,
    // Without costgate the call would have cost its own cost plus what each lever saved.
    baselineCost: cost === undefined ? undefined : levers.reduce((sum, effect) => sum + effect.saving, cost),
    priceVersion,
  };
  if (levers.length > 0) event.levers = levers;
  if (context.cacheStatus !== undefined) event.cacheStatus = context.cacheStatus;
  if (context.route !== undefined) event.route = context.route;
  if (context.outputCap?.requested !== undefined) event.maxTokensRequested = context.outputCap.requested;
  if (context.outputCap?.sent !== undefined) event.maxTokensSent = context.outputCap.sent;
  if (cache) {
    event.cacheWritePremium = cache.writePremium;
    event.cacheReadSaving = cache.readSaving;
  }
  return event;
}

/** Prices the finished call and hands it to the ledger's recorder. */
export function createRecordUsageStage(pricer: Pricer, sink: UsageSink): Stage {
  return {
    name: 'record-usage',
    async run(context, next) {
      try {
        await next();
      } finally {
        if (context.call.operation.billable) {
          const event = buildUsageEvent(context, pricer);
          context.event = event;
          sink.record(event, incomingTraceContext(context.call.headers));
        }
      }
    },
  };
}

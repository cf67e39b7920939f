import type { UsageEvent } from '../../core/usage-event.ts';
import { emptyUsage } from '../../core/usage.ts';
import type { Pricer } from '../../pricing/pricer.ts';
import type { CallContext } from '../context.ts';
import type { UsageSink } from '../record-usage/record-usage-stage.ts';
import type { EmbeddingCall } from './embedder.ts';

export type EmbeddingPurpose = 'embedding' | 'answer-check';

/**
 * Each upstream embedding call the semantic cache makes is a ledger row of its own, attributed
 * to the same feature and customer as the call it served. Without the cache the row would not
 * exist, so its baseline is zero and its response_cache lever saving is minus its cost: summed
 * with the hit rows, the lever's savings are net of what the cache itself spent.
 */
export function recordEmbeddingCalls(
  calls: readonly EmbeddingCall[],
  purpose: EmbeddingPurpose,
  context: CallContext,
  pricer: Pricer,
  sink: UsageSink,
): string[] {
  const ids: string[] = [];
  calls.forEach((call, index) => {
    const requestId = `${context.requestId}:${purpose}${calls.length > 1 ? `-${index + 1}` : ''}`;
    const at = Date.now();
    const priced = call.usage ? pricer.cost({ provider: call.provider, model: call.model, usage: call.usage, at: new Date(at) }) : undefined;
    // A failed call that reported no usage is not billed: a known zero, as record-usage does.
    const cost = priced?.cost ?? (call.usage === undefined && call.status !== 200 ? 0n : undefined);
    const event: UsageEvent = {
      requestId,
      time: at,
      provider: call.provider,
      endpoint: call.endpoint,
      requestedModel: call.model,
      servedModel: call.model,
      attribution: context.attribution,
      stream: false,
      status: call.status,
      errorType: call.status === 200 ? undefined : 'embedding_failed',
      latencyMs: Math.round(call.latencyMs * 1000) / 1000,
      ttfbMs: undefined,
      usage: call.usage ?? emptyUsage(),
      stopReason: undefined,
      cost,
      baselineCost: cost === undefined ? undefined : 0n,
      priceVersion: priced?.priceVersion ?? (cost === 0n ? 'not-billed' : undefined),
      levers: [
        {
          lever: 'response_cache',
          saving: cost === undefined ? 0n : -cost,
          estimated: false,
          detail: { purpose: purpose === 'embedding' ? 'semantic cache lookup' : 'semantic cache answer check', forRequestId: context.requestId },
        },
      ],
    };
    sink.record(event);
    ids.push(requestId);
  });
  return ids;
}

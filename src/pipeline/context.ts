import type { Attribution } from '../core/attribution.ts';
import type { LeverEffect } from '../core/lever.ts';
import type { Usage } from '../core/usage.ts';
import type { UsageEvent } from '../core/usage-event.ts';
import type { ProviderId } from '../core/provider-id.ts';
import type { CostResult } from '../pricing/pricer.ts';
import type { ParsedCall, ProviderAdapter, ResponseFacts } from '../providers/provider.ts';
import type { KeyUse } from './budgets/virtual-key-stage.ts';
import type { CacheStatus, ResponseCacheCall } from './response-cache/response-cache.ts';

export type HeaderMap = Record<string, string | string[]>;

/**
 * Where a streamed response goes. The server implements it over the client socket; stages that
 * answer from elsewhere (a cache, a batch) can write to it the same way.
 */
export interface ResponseSink {
  start(status: number, headers: HeaderMap): void;
  /** False when the client cannot take more now; wait for `onDrain`. */
  write(chunk: Buffer): boolean;
  onDrain(callback: () => void): void;
  /** Ended by the server once the pipeline returns, so usage is recorded before the last byte. */
  end(): void;
  /** Cuts the response short so the client sees a broken stream, not a clean end. */
  abort(): void;
  readonly started: boolean;
  /** The status sent by `start`, once sent. */
  readonly status: number | undefined;
}

/** A complete response that the server sends once the pipeline returns. */
export interface BufferedResult {
  status: number;
  headers: HeaderMap;
  body: Buffer;
}

/** Everything one call carries through the pipeline: typed fields, never a string-keyed bag. */
export interface CallContext {
  readonly requestId: string;
  /** Epoch ms. */
  readonly receivedAt: number;
  /** performance.now() at arrival, for latency. */
  readonly startedAt: number;
  readonly adapter: ProviderAdapter;
  readonly call: ParsedCall;
  readonly signal: AbortSignal;
  /** Stages may wrap it (to tee a stream into a cache, say); the server ends whatever is here. */
  sink: ResponseSink;
  attribution: Attribution;
  /** Set by any stage that edits `call.body`, so the adapter re-serializes it. */
  bodyChanged: boolean;
  /** Set when a stage produced a full response for the server to send. */
  result: BufferedResult | undefined;
  /** What the response said about itself once it ended. */
  facts: ResponseFacts | undefined;
  /** performance.now() when the first byte went (or will go) to the client. */
  firstByteAt: number | undefined;
  cost: CostResult | undefined;
  /** What each lever stage did to this call; the record-usage stage turns them into the baseline. */
  levers: LeverEffect[];
  event: UsageEvent | undefined;
  /** How the response cache met this call (miss, exact or semantic hit, shadow, bypass); absent when the cache is off. */
  cacheStatus?: CacheStatus;
  /** The response cache's key, policy and recorder for this call, shared by the exact and semantic stages. */
  responseCache?: ResponseCacheCall;
  /**
   * The output cap the client asked for and the one sent upstream, set by the output-policy stage
   * for calls that have one; record-usage puts both on the ledger row.
   */
  outputCap?: { requested: number | undefined; sent: number | undefined };
  /** The route a routing stage took ("cascade:gpt-4o-mini>gpt-4o"); the ledger's `route` column. */
  route?: string;
  /**
   * Upstream calls made for this request besides the one whose answer the client got (a cascade's
   * escalated cheap answer, a judge). Record-usage adds their cost to the call's cost.
   */
  extraCalls?: ExtraUpstreamCall[];
  /**
   * Set by the resilience stage: the upstream attempts made (retries and fallbacks included), and
   * the alternate that served the call when it was not the provider and model asked for; the
   * ledger row names and prices that one.
   */
  resilience?: { attempts: number; servedBy?: { provider: ProviderId; model: string } };
  /** The virtual key that authenticated the call and what its budget and rate limits hold for it; absent when keys are off. */
  virtualKey?: KeyUse;
}

export interface ExtraUpstreamCall {
  model: string;
  /** Undefined when the call failed without reporting usage (not billed). */
  usage: Usage | undefined;
  purpose: 'escalated' | 'judge';
}

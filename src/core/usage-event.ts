import type { Attribution } from './attribution.ts';
import type { LeverEffect } from './lever.ts';
import type { Picodollars } from './money.ts';
import type { ProviderId } from './provider-id.ts';
import type { Usage } from './usage.ts';

/**
 * One row of the ledger: everything known about one call once it has ended.
 * Columns that later levers fill (cache status, route, batch id) are optional here.
 */
export interface UsageEvent {
  requestId: string;
  /** Epoch milliseconds when the gateway received the request. */
  time: number;
  provider: ProviderId;
  /** The gateway route, e.g. "chat.completions", "messages", "converse-stream". */
  endpoint: string;
  requestedModel: string | undefined;
  servedModel: string | undefined;
  attribution: Attribution;
  stream: boolean;
  /** HTTP status returned to the client (0 when the client went away before one was sent). */
  status: number;
  /** Provider error type or a gateway one ("client_aborted", "upstream_unreachable"); undefined on success. */
  errorType: string | undefined;
  latencyMs: number;
  /** Time to the first response byte sent to the client. */
  ttfbMs: number | undefined;
  usage: Usage;
  stopReason: string | undefined;
  /** Undefined when the model has no known price: unpriced, never $0. */
  cost: Picodollars | undefined;
  /** What the call would have cost without any costgate lever. */
  baselineCost: Picodollars | undefined;
  /** Which price data produced the cost, e.g. "genai-prices@0.1.8:anthropic/claude-sonnet-4-5". */
  priceVersion: string | undefined;
  /** Cache writes at their price minus the same tokens uncached (undefined when unpriced). */
  cacheWritePremium?: Picodollars;
  /** Cache reads at the uncached price minus at the read price (undefined when unpriced). */
  cacheReadSaving?: Picodollars;
  cacheStatus?: string;
  route?: string;
  batchId?: string;
  /** What each lever did; `baselineCost` = `cost` + the sum of their savings. */
  levers?: LeverEffect[];
  /** The output cap (max_tokens or its provider's equivalent) the client sent; absent when it sent none. */
  maxTokensRequested?: number;
  /** The output cap sent upstream, after any output policy; absent when none was sent. */
  maxTokensSent?: number;
}

import type { ProviderId } from '../../core/provider-id.ts';

/**
 * Where the defer stage hands a request that can wait: the implementation (src/batch/deferred/)
 * persists it before `enqueue` resolves, so a 202 is never given for a request a crash could lose,
 * and later sends it in a provider batch. An interface so a shared (Redis-backed) queue can replace
 * the file-backed one.
 */
export interface DeferredRequest {
  provider: ProviderId;
  model: string;
  /** Upstream path, e.g. "/v1/chat/completions" or "/v1/messages". */
  upstreamPath: string;
  body: Record<string, unknown>;
  /** Where to POST the result when it is ready (signed); absent = the client polls. */
  webhook: string | undefined;
  feature: string | undefined;
  customer: string | undefined;
  user: string | undefined;
  receivedAt: number;
  /** Hashed API key of the caller (attribution's apiKeyId): only the same key may read the result. */
  owner: string | undefined;
}

export interface DeferQueue {
  /** Persists the request and returns its id (for GET /costgate/deferred/{id}). */
  enqueue(request: DeferredRequest): Promise<string>;
  readonly webhooksEnabled: boolean;
}

export const DEFER_HEADER = 'x-costgate-defer';
export const WEBHOOK_HEADER = 'x-costgate-webhook';
export const DEFERRED_PATH = '/costgate/deferred/';

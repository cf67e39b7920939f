import type { LeverEffect } from '../../core/lever.ts';
import type { Pricer } from '../../pricing/pricer.ts';
import { responseCacheView } from '../../providers/response-cache-view.ts';
import type { CallContext } from '../context.ts';
import type { Stage } from '../stage.ts';
import { cacheTenant, exactCacheKey, requestCacheControl } from './cache-policy.ts';
import { RecordingSink, replay, storableHeaders } from './recorded-response.ts';
import type { ResponseCache, ResponseCacheCall } from './response-cache.ts';
import type { CachedResponse } from './response-store.ts';

/**
 * What a hit saved: the replaced call's cost, priced from the usage it was billed for when it
 * was made (hence estimated), minus what the hit itself cost.
 */
export function hitLever(pricer: Pricer, entry: CachedResponse, hitCost: bigint, now: number, detail: Record<string, unknown>): LeverEffect {
  const model = entry.servedModel ?? entry.requestedModel;
  const replaced = entry.usage && model ? pricer.cost({ provider: entry.provider, model, usage: entry.usage, at: new Date(now) }) : undefined;
  return {
    lever: 'response_cache',
    saving: replaced ? replaced.cost - hitCost : 0n,
    estimated: true,
    detail: {
      ...detail,
      cachedRequestId: entry.requestId,
      ageSeconds: Math.max(0, Math.floor((now - entry.createdAt) / 1000)),
      replacedModel: model,
      replacedCost: replaced ? replaced.cost.toString() : 'unpriced',
    },
  };
}

/** The fresh answer of a call that just ended, if it may be stored: complete, successful, not too large. */
export function freshAnswer(context: CallContext, state: ResponseCacheCall, maxEntryBytes: number): { headers: CachedResponse['headers']; body: Buffer } | undefined {
  if (context.signal.aborted || context.facts?.errorType !== undefined) return undefined;
  if (state.recorder) {
    const body = state.recorder.body();
    if (!body || state.recorder.status !== 200 || !state.recorder.headers) return undefined;
    return { headers: storableHeaders(state.recorder.headers), body };
  }
  const result = context.result;
  if (!result || result.status !== 200 || result.body.length > maxEntryBytes) return undefined;
  return { headers: storableHeaders(result.headers), body: result.body };
}

/**
 * Exact response cache. Answers a repeated request (same tenant, provider, endpoint, model,
 * stream flag and every answer-changing field) from the store, streams included; otherwise
 * records the answer on its way to the client and stores it once the call has ended cleanly.
 */
export function createResponseCacheStage(cache: ResponseCache, pricer: Pricer): Stage {
  const { store, policies, config } = cache;
  return {
    name: 'response-cache',
    async run(context, next) {
      const policy = policies.forFeature(context.attribution.feature);
      if (policy.exact === 'off' && policy.semantic === 'off') return next();
      const { call } = context;
      if (!call.operation.billable || !call.body) return next();
      const view = responseCacheView(call);
      const control = requestCacheControl(call.headers);
      if (!view || view.uncacheable !== undefined || control.noStore) {
        context.cacheStatus = 'bypass';
        return next();
      }
      const tenant = cacheTenant(context.attribution, call.headers);
      const key = exactCacheKey(tenant, call, view.keyMaterial);

      if ((policy.exact === 'on' || policy.exact === 'read-only') && !control.noCache) {
        const now = Date.now();
        const entry = await store.get(key, now);
        const fresh = entry && (control.maxAgeSeconds === undefined || now - entry.createdAt <= control.maxAgeSeconds * 1000);
        if (entry && fresh && entry.tenant === tenant) {
          context.cacheStatus = 'exact_hit';
          replay(context, entry, 'exact_hit', now);
          context.levers.push(hitLever(pricer, entry, 0n, now, { kind: 'exact' }));
          return;
        }
      }

      const state: ResponseCacheCall = { key, tenant, policy, view, control, semantic: undefined, recorder: undefined };
      context.responseCache = state;
      // A stream is recorded only when something may store it.
      if (call.stream && (policy.exact === 'on' || policy.exact === 'write-only' || policy.semantic !== 'off')) {
        state.recorder = new RecordingSink(context.sink, config.maxEntryBytes, () => ({ 'x-costgate-cache': context.cacheStatus ?? 'miss' }));
        context.sink = state.recorder;
      }
      await next();

      context.cacheStatus ??= 'miss';
      if (context.result && !call.stream) context.result.headers['x-costgate-cache'] = context.cacheStatus;
      if (context.cacheStatus === 'semantic_hit') return;
      const writes = policy.exact === 'on' || policy.exact === 'write-only' || state.semantic !== undefined;
      if (!writes) return;
      const answer = freshAnswer(context, state, config.maxEntryBytes);
      if (!answer) return;
      const now = Date.now();
      await store.set({
        key,
        tenant,
        provider: call.operation.provider,
        endpoint: call.operation.endpoint,
        stream: call.stream,
        status: 200,
        headers: answer.headers,
        body: answer.body,
        requestedModel: call.model,
        servedModel: context.facts?.servedModel,
        stopReason: context.facts?.stopReason,
        usage: context.facts?.usage,
        requestId: context.requestId,
        createdAt: now,
        expiresAt: now + policy.ttlSeconds * 1000,
        ...(state.semantic ? { semantic: state.semantic } : {}),
      });
    },
  };
}

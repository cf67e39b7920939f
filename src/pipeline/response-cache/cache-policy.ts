import { createHash } from 'node:crypto';
import {
  RESPONSE_CACHE_POLICY_DEFAULTS,
  type ResponseCacheConfig,
  type ResponseCachePolicyConfig,
} from '../../config/response-cache-config.ts';
import type { Attribution } from '../../core/attribution.ts';
import type { ParsedCall } from '../../providers/provider.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
export type ResolvedCachePolicy = Mutable<{ [K in keyof typeof RESPONSE_CACHE_POLICY_DEFAULTS]-?: NonNullable<ResponseCachePolicyConfig[K]> }>;

/** Per-feature policies merged over the default once, then looked up by feature name. */
export class CachePolicies {
  private readonly resolved = new Map<string, ResolvedCachePolicy>();
  readonly fallback: ResolvedCachePolicy;

  constructor(private readonly config: ResponseCacheConfig) {
    this.fallback = merge(RESPONSE_CACHE_POLICY_DEFAULTS, config.default);
    for (const [feature, policy] of Object.entries(config.features)) this.resolved.set(feature, merge(this.fallback, policy));
  }

  forFeature(feature: string | undefined): ResolvedCachePolicy {
    return (feature === undefined ? undefined : this.resolved.get(feature)) ?? this.fallback;
  }

  /** True when some policy turns a cache on; otherwise the stages are left out of the pipeline. */
  get anyEnabled(): boolean {
    return [this.fallback, ...this.resolved.values()].some((policy) => policy.exact !== 'off' || policy.semantic !== 'off');
  }

  get anySemantic(): boolean {
    return [this.fallback, ...this.resolved.values()].some((policy) => policy.semantic !== 'off');
  }
}

function merge(base: ResolvedCachePolicy | typeof RESPONSE_CACHE_POLICY_DEFAULTS, override: ResponseCachePolicyConfig): ResolvedCachePolicy {
  const merged = { ...base } as ResolvedCachePolicy;
  for (const [name, value] of Object.entries(override)) {
    if (value !== undefined) (merged as Record<string, unknown>)[name] = value;
  }
  return merged;
}

export interface RequestCacheControl {
  /** `no-cache`: do not answer from the cache (the fresh answer may still be stored). */
  noCache: boolean;
  /** `no-store`: neither answer from nor store into the cache. */
  noStore: boolean;
  /** `max-age=N`: accept only entries at most N seconds old. */
  maxAgeSeconds: number | undefined;
}

export function requestCacheControl(headers: ParsedCall['headers']): RequestCacheControl {
  const raw = headers['cache-control'];
  const value = (Array.isArray(raw) ? raw.join(',') : (raw ?? '')).toLowerCase();
  const control: RequestCacheControl = { noCache: false, noStore: false, maxAgeSeconds: undefined };
  if (!value) return control;
  for (const directive of value.split(',')) {
    const [name, argument] = directive.trim().split('=');
    if (name === 'no-cache') control.noCache = true;
    else if (name === 'no-store') control.noStore = true;
    else if (name === 'max-age' && argument !== undefined && /^\d+$/.test(argument.trim())) control.maxAgeSeconds = Number(argument.trim());
  }
  return control;
}

function credentialOf(headers: ParsedCall['headers']): string | undefined {
  const authorization = headers['authorization'];
  const value = Array.isArray(authorization) ? authorization[0] : authorization;
  if (value) {
    // A SigV4 signature changes on every request; the access key id inside it does not.
    const sigV4 = /Credential=([^/,\s]+)/.exec(value);
    if (sigV4) return `aws:${sigV4[1]}`;
    return value.replace(/^Bearer\s+/i, '');
  }
  for (const name of ['x-api-key', 'api-key']) {
    const key = headers[name];
    const keyValue = Array.isArray(key) ? key[0] : key;
    if (keyValue) return keyValue;
  }
  return undefined;
}

/**
 * The partition a call's entries live in: the customer when one is named, else the caller's API
 * key. The customer is scoped under the key too, because `x-costgate-customer` is declared by the
 * caller: naming another customer must not open that customer's entries to a different key.
 * Callers with no key at all (the gateway holds the provider keys) share the key-less partition.
 * A virtual key is taken from the call's headers before this stage, so its id stands for it.
 */
export function cacheTenant(attribution: Attribution, headers: ParsedCall['headers']): string {
  const credential = credentialOf(headers) ?? (attribution.apiKeyId === undefined ? undefined : `virtual:${attribution.apiKeyId}`);
  const key = credential === undefined ? 'no-key' : `key:${createHash('sha256').update(credential).digest('hex').slice(0, 32)}`;
  return attribution.customer === undefined ? key : `${key}/customer:${attribution.customer}`;
}

/** The exact-cache key: every input that can change the answer, scoped by tenant. */
export function exactCacheKey(tenant: string, call: ParsedCall, keyMaterial: string): string {
  const { operation } = call;
  return createHash('sha256')
    .update(`${tenant}\u0000${operation.provider}\u0000${operation.endpoint}\u0000${call.model ?? ''}\u0000${call.stream ? 1 : 0}\u0000`)
    .update(keyMaterial)
    .digest('hex');
}

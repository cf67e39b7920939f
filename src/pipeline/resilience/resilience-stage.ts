import type { AlternateConfig, ResilienceConfig } from '../../config/resilience-config.ts';
import { GatewayError } from '../../core/errors.ts';
import type { ProviderId } from '../../core/provider-id.ts';
import type { ProviderAdapter } from '../../providers/provider.ts';
import type { CallContext, HeaderMap } from '../context.ts';
import type { Next, Stage } from '../stage.ts';
import { HeaderAddingSink } from '../wrapping-sink.ts';
import { alternateCall, type AlternateCall } from './alternate-call.ts';
import { pause, retryWait } from './backoff.ts';
import { CircuitBreakers, type CircuitBreaker } from './circuit-breaker.ts';

export const ATTEMPTS_HEADER = 'x-costgate-attempts';
/** On a response served by a fallback: "provider/model" of the alternate that answered. */
export const SERVED_BY_HEADER = 'x-costgate-served-by';
/** "open" on a call refused because the upstream's circuit breaker is open. */
export const CIRCUIT_HEADER = 'x-costgate-circuit';

export interface ResilienceStageOptions {
  config: ResilienceConfig;
  /** The gateway's adapters, for alternates on another provider. */
  adapters: Partial<Record<ProviderId, ProviderAdapter>>;
  /** Epoch ms, for breakers and HTTP-date retry-after; Date.now unless a test drives time. */
  now?: () => number;
  /** [0, 1) for backoff jitter; Math.random unless a test fixes it. */
  random?: () => number;
  log?: (line: string) => void;
}

/** How one attempt ended, as far as retrying is concerned. */
type Verdict =
  /** The client has its answer (a success, a stream already under way, or an error not worth retrying). */
  | { kind: 'final'; upstreamFailure: boolean }
  | { kind: 'retryable'; headers: Record<string, string | string[] | undefined>; upstreamFailure: boolean }
  /** Not retryable, and not the client's answer when an alternate gave it (a 400 from a converted body). */
  | { kind: 'refused' }
  | { kind: 'aborted' };

// 408 request timeout, 409 conflict (Anthropic/OpenAI lock contention), 429 rate limit; every 5xx, 529 included.
function retryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

function judge(attempt: CallContext): Verdict {
  if (attempt.signal.aborted || attempt.facts?.errorType === 'client_aborted') return { kind: 'aborted' };
  // Bytes have reached the client: whatever happens now is its answer, never sent twice.
  if (attempt.sink.started) return { kind: 'final', upstreamFailure: attempt.facts?.errorType !== undefined };
  const status = attempt.result?.status ?? 0;
  if (status > 0 && status < 400) return { kind: 'final', upstreamFailure: false };
  if (status === 0 || retryableStatus(status)) {
    return { kind: 'retryable', headers: attempt.result?.headers ?? {}, upstreamFailure: status === 0 || status >= 500 };
  }
  return { kind: 'refused' };
}

interface Target {
  /** Undefined for the call as the client sent it. */
  alternate: AlternateConfig | undefined;
  prepared: AlternateCall;
  adapter: ProviderAdapter;
}

/**
 * Retries, circuit breakers and fallbacks around the upstream call. It sits just before forward, so
 * each attempt re-runs only the upstream call, on a child context of its own:
 * - an attempt is retried only while no byte has reached the client, on 408/409/429/5xx/529 and
 *   on unreachable or timed-out upstreams, after full-jitter backoff or the upstream's retry-after;
 * - a call whose upstream keeps failing (or whose breaker is open) goes to the feature's alternates
 *   in order, converted when the alternate speaks another wire format;
 * - the client gets the first answer, or the requested upstream's last error in its own shape.
 * Only the attempt that answered reaches the ledger, priced at the provider that served it.
 */
export function createResilienceStage(options: ResilienceStageOptions): Stage {
  const { config } = options;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const breakers = new CircuitBreakers(config.circuitBreaker, now);
  const warned = new Set<string>();

  function alternatesFor(context: CallContext): AlternateConfig[] {
    const model = context.call.model;
    if (model === undefined) return [];
    const feature = context.attribution.feature;
    const table = feature === undefined ? undefined : config.fallbacks.features[feature];
    return table?.[model] ?? config.fallbacks.default[model] ?? [];
  }

  function targets(context: CallContext): Target[] {
    const list: Target[] = [{ alternate: undefined, prepared: { call: context.call, bodyChanged: context.bodyChanged }, adapter: context.adapter }];
    for (const alternate of alternatesFor(context)) {
      const prepared = alternateCall(context.call, alternate);
      const adapter = options.adapters[alternate.provider];
      if (!prepared || !adapter) {
        const note = `${context.call.operation.provider} ${context.call.operation.endpoint} -> ${alternate.provider}`;
        if (!warned.has(note)) options.log?.(`resilience: fallback ${note} is not supported; alternate ${alternate.model} skipped`);
        warned.add(note);
        continue;
      }
      list.push({ alternate, prepared: { ...prepared, bodyChanged: prepared.bodyChanged || context.bodyChanged }, adapter });
    }
    return list;
  }

  function child(context: CallContext, target: Target, attempts: number): CallContext {
    const extra: HeaderMap = { [ATTEMPTS_HEADER]: String(attempts) };
    if (target.alternate) extra[SERVED_BY_HEADER] = `${target.alternate.provider}/${target.alternate.model}`;
    const sink = target.prepared.convertStream ? target.prepared.convertStream(context.sink) : context.sink;
    return {
      ...context,
      adapter: target.adapter,
      call: target.prepared.call,
      bodyChanged: target.prepared.bodyChanged,
      sink: new HeaderAddingSink(sink, extra),
      result: undefined,
      facts: undefined,
      firstByteAt: undefined,
    };
  }

  /** Makes an attempt's outcome the call's outcome. */
  function adopt(context: CallContext, attempt: CallContext, attempts: number, alternate: AlternateConfig | undefined): void {
    context.facts = attempt.facts;
    context.firstByteAt = attempt.firstByteAt;
    context.result = attempt.result && {
      ...attempt.result,
      headers: {
        ...attempt.result.headers,
        [ATTEMPTS_HEADER]: String(attempts),
        ...(alternate ? { [SERVED_BY_HEADER]: `${alternate.provider}/${alternate.model}` } : {}),
      },
    };
    context.resilience = { attempts };
    if (alternate) {
      context.resilience.servedBy = { provider: alternate.provider, model: alternate.model };
      // Bedrock bodies do not name the model; the ledger prices the one that answered.
      if (context.facts) context.facts = { ...context.facts, servedModel: context.facts.servedModel ?? alternate.model };
      const fallbackRoute = `fallback:${alternate.provider}/${alternate.model}`;
      context.route = context.route === undefined ? fallbackRoute : `${context.route}+${fallbackRoute}`;
    }
  }

  function refuseOpenCircuit(context: CallContext, retryInMs: number, attempts: number): void {
    const provider = context.call.operation.provider;
    const rendered = context.adapter.renderError(
      new GatewayError(
        'upstream_unavailable',
        `costgate: the circuit breaker for ${provider} ${context.call.model ?? ''} is open after repeated upstream failures; ` +
          `no call is sent upstream for ${Math.ceil(retryInMs / 1000)}s and no fallback is configured or available`,
      ),
    );
    context.facts = { usage: undefined, servedModel: undefined, stopReason: undefined, errorType: 'circuit_open' };
    context.resilience = { attempts };
    context.result = {
      status: 503,
      headers: {
        ...rendered.headers,
        'retry-after': String(Math.max(1, Math.ceil(retryInMs / 1000))),
        [CIRCUIT_HEADER]: 'open',
        [ATTEMPTS_HEADER]: String(attempts),
        'x-costgate-request-id': context.requestId,
      },
      body: Buffer.from(rendered.body),
    };
  }

  function breakerFor(target: Target): CircuitBreaker | undefined {
    return breakers.get(breakers.key(target.prepared.call.operation.provider, target.prepared.call.model));
  }

  return {
    name: 'resilience',
    async run(context: CallContext, next: Next) {
      let attempts = 0;
      /** The requested upstream's last failed attempt: the client's answer if nothing else answers. */
      let primaryFailure: CallContext | undefined;
      let refusedFor: number | undefined;

      for (const target of targets(context)) {
        const breaker = breakerFor(target);
        for (let retry = 0; retry < config.retries.maxAttempts; retry++) {
          const admission = breaker?.admit() ?? { allowed: true as const, probe: false };
          if (!admission.allowed) {
            if (target.alternate === undefined) refusedFor = admission.retryInMs;
            break;
          }
          attempts += 1;
          const attempt = child(context, target, attempts);
          try {
            await next(attempt);
          } catch (error) {
            breaker?.release(admission.probe);
            throw error;
          }
          const verdict = judge(attempt);
          if (verdict.kind === 'aborted') {
            breaker?.release(admission.probe);
            adopt(context, attempt, attempts, target.alternate);
            return;
          }
          breaker?.record(verdict.kind !== 'refused' && verdict.upstreamFailure, admission.probe);
          if (verdict.kind === 'final' || (verdict.kind === 'refused' && target.alternate === undefined)) {
            adopt(context, attempt, attempts, target.alternate);
            return;
          }
          if (verdict.kind === 'refused') break;
          if (target.alternate === undefined) primaryFailure = attempt;
          if (retry + 1 >= config.retries.maxAttempts) break;
          const wait = retryWait(retry + 1, verdict.headers, config.retries, now(), random);
          if (!wait.retry) break;
          await pause(wait.delayMs, context.signal);
          if (context.signal.aborted) {
            adopt(context, attempt, attempts, target.alternate);
            return;
          }
        }
      }
      if (primaryFailure) adopt(context, primaryFailure, attempts, undefined);
      else refuseOpenCircuit(context, refusedFor ?? config.circuitBreaker.cooldownMs, attempts);
    },
  };
}

/** Whether the stage has anything to do: retries, a breaker, or some fallback. */
export function resilienceActive(config: ResilienceConfig): boolean {
  const anyFallback = Object.keys(config.fallbacks.default).length > 0 || Object.values(config.fallbacks.features).some((table) => Object.keys(table).length > 0);
  return config.retries.maxAttempts > 1 || config.circuitBreaker.enabled || anyFallback;
}

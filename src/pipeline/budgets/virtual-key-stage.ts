import { GatewayError, type GatewayErrorKind } from '../../core/errors.ts';
import { formatUsd } from '../../core/money.ts';
import type { BudgetsConfig } from '../../config/keys-config.ts';
import type { CachedKeyLookup } from '../../keys/cached-key-lookup.ts';
import { modelAllowed, type VirtualKey } from '../../keys/virtual-key.ts';
import type { Pricer } from '../../pricing/pricer.ts';
import type { CallContext } from '../context.ts';
import type { Stage } from '../stage.ts';
import type { BudgetKeeper } from './budget-keeper.ts';
import { budgetChecks, toNanodollars, type BudgetCheck, type Nanodollars } from './budget-periods.ts';
import { presentedKeyMissing, rejection } from './rejection.ts';
import { takePresentedKey } from './presented-key.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { worstCaseCost } from './worst-case-cost.ts';

/** What was held for a call under its virtual key, released or settled when the call ends. */
export interface KeyUse {
  keyId: string;
  /** Worst-case cost reserved against the key's budgets; absent when it has none or counting failed open. */
  reserved?: { amount: Nanodollars; checks: BudgetCheck[] };
  /** Tokens counted against the key's per-minute limit, and in which window. */
  counted?: { tokens: number; window: number };
}

export interface VirtualKeyStageOptions {
  keys: CachedKeyLookup;
  budgets: BudgetKeeper;
  rates: RateLimiter;
  pricer: Pricer;
  config: BudgetsConfig;
  log?: (line: string) => void;
  now?: () => number;
}

/** The ledger's cost of the finished call; unpriced calls keep their reservation as their cost. */
function settledCost(context: CallContext, reserved: Nanodollars): Nanodollars {
  const event = context.event;
  if (!event) return 0;
  if (event.cost === undefined) return event.status >= 400 ? 0 : reserved;
  return toNanodollars(event.cost);
}

function usedTokens(context: CallContext): number {
  const usage = context.event?.usage;
  return (usage?.input.total ?? 0) + (usage?.output.total ?? 0);
}

/**
 * Authenticates calls with gateway-issued virtual keys and enforces each key's models, per-minute
 * limits and budgets. Sits after attribution and outside record-usage: when `next` returns, the
 * call's ledger event (and cost) exists, and the reservation made from the worst case is settled
 * with the real cost.
 */
export function createVirtualKeyStage(options: VirtualKeyStageOptions): Stage {
  const now = options.now ?? Date.now;
  const ttlMs = options.config.reservationTtlSeconds * 1000;
  let storeDown = false;

  function counterStoreFailed(error: unknown): void {
    if (!storeDown) options.log?.(`budget counters unavailable (fail ${options.config.failMode}): ${(error as Error).message}`);
    storeDown = true;
  }

  function refuse(context: CallContext, kind: GatewayErrorKind, message: string, retryAfterSeconds?: number): void {
    context.result = rejection(context, new GatewayError(kind, message), retryAfterSeconds);
  }

  /** Counts the call against the key; false when it was refused (context.result is set). */
  async function admit(context: CallContext, key: VirtualKey, use: KeyUse): Promise<boolean> {
    const at = context.receivedAt;
    const checks = budgetChecks(key.limits, at);
    const counting = checks.length > 0 || key.limits.requestsPerMinute !== undefined || key.limits.tokensPerMinute !== undefined;
    if (!counting) return true;
    const worst = worstCaseCost(context.call, options.pricer, new Date(at), options.config.assumedMaxOutputTokens);
    if (checks.length > 0 && worst.cost === undefined) {
      refuse(context, 'permission', `model ${context.call.model ?? '(none)'} has no known price, so a key with a budget cannot call it`);
      return false;
    }
    try {
      if (checks.length > 0 && worst.cost !== undefined) {
        const amount = toNanodollars(worst.cost);
        const outcome = await options.budgets.reserve({ keyId: key.id, requestId: context.requestId, amount, checks, now: now(), ttlMs });
        if (outcome.kind === 'refused') {
          const left = Math.max(0, outcome.check.limit - outcome.spent - outcome.reserved);
          const retryAfter = Math.max(1, Math.ceil((outcome.check.end - now()) / 1000));
          const held = outcome.reserved > 0 ? ` (${formatUsd(BigInt(outcome.reserved) * 1000n)} held by calls in flight)` : '';
          refuse(context, 'rate_limited', `budget ${outcome.check.period} of key ${key.id}: this call may cost up to $${formatUsd(BigInt(amount) * 1000n)}, $${formatUsd(BigInt(left) * 1000n)} is left${held}`, outcome.reserved > 0 ? 1 : retryAfter);
          return false;
        }
        use.reserved = { amount, checks };
      }
      if (key.limits.requestsPerMinute !== undefined || key.limits.tokensPerMinute !== undefined) {
        const tokens = worst.inputTokens + worst.outputTokens;
        const rate = await options.rates.acquire({ keyId: key.id, requestsPerMinute: key.limits.requestsPerMinute, tokensPerMinute: key.limits.tokensPerMinute, tokens, now: now() });
        if (!rate.allowed) {
          await release(context, use);
          refuse(context, 'rate_limited', `rate limit: ${rate.limit} per minute of key ${key.id} reached`, rate.retryAfterSeconds);
          return false;
        }
        use.counted = { tokens, window: rate.window };
      }
      storeDown = false;
      return true;
    } catch (error) {
      counterStoreFailed(error);
      if (options.config.failMode === 'open') return true;
      await release(context, use);
      refuse(context, 'rate_limited', 'budget counters are unavailable; try again shortly', 1);
      return false;
    }
  }

  async function release(context: CallContext, use: KeyUse): Promise<void> {
    const reserved = use.reserved;
    if (!reserved) return;
    delete use.reserved;
    await options.budgets.store.settle({ keyId: use.keyId, requestId: context.requestId, cost: 0, checks: reserved.checks, now: now() }).catch(counterStoreFailed);
  }

  async function settle(context: CallContext, use: KeyUse): Promise<void> {
    const work: Array<Promise<void>> = [];
    if (use.reserved) {
      const cost = settledCost(context, use.reserved.amount);
      work.push(options.budgets.store.settle({ keyId: use.keyId, requestId: context.requestId, cost, checks: use.reserved.checks, now: now() }));
    }
    if (use.counted) work.push(options.rates.adjust(use.keyId, use.counted.window, usedTokens(context) - use.counted.tokens));
    const results = await Promise.allSettled(work);
    for (const result of results) if (result.status === 'rejected') counterStoreFailed(result.reason);
  }

  return {
    name: 'virtual-keys',
    async run(context, next) {
      const secret = takePresentedKey(context.call);
      if (secret === undefined) {
        context.result = presentedKeyMissing(context);
        return;
      }
      let key: VirtualKey | undefined;
      try {
        key = await options.keys.find(secret);
      } catch (error) {
        options.log?.(`virtual key store unavailable: ${(error as Error).message}`);
        refuse(context, 'upstream_unavailable', 'the key store is unavailable; try again shortly');
        return;
      }
      if (!key || (key.revokedAt !== undefined && key.revokedAt <= now())) {
        refuse(context, 'authentication', 'invalid API key');
        return;
      }
      // The key's id (never its secret) is the ledger's api key; its team and customer are authoritative.
      context.attribution.apiKeyId = key.id;
      if (key.customer !== undefined) context.attribution.customer = key.customer;
      if (key.team !== undefined) context.attribution.tags = { ...context.attribution.tags, team: key.team };
      if (!modelAllowed(key, context.call.model)) {
        refuse(context, 'permission', `key ${key.id} may not call model ${context.call.model ?? '(none)'}`);
        return;
      }
      const use: KeyUse = { keyId: key.id };
      context.virtualKey = use;
      if (!context.call.operation.billable) {
        await next();
        return;
      }
      if (!(await admit(context, key, use))) return;
      try {
        await next();
      } finally {
        await settle(context, use);
      }
    },
  };
}

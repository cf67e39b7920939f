import type { Outcome } from '../../core/outcome.ts';
import type { UsageEvent } from '../../core/usage-event.ts';
import { analyticsUnsupported } from '../analytics.ts';
import type { Ledger } from '../ledger.ts';
import { prepareUsageEvents } from '../prepare-usage-events.ts';

export interface FakeLedger extends Ledger {
  /** Every batch append was called with, failed ones included. */
  readonly calls: UsageEvent[][];
  /** Events in successful appends, duplicates included: shows what was sent twice. */
  readonly appended: UsageEvent[];
}

/**
 * An in-memory ledger for recorder tests: it checks events like a real backend and can be
 * made to fail on demand. It stores rows but does not report (that is the backends' suite).
 */
export function createFakeLedger(options: { fail?: (call: number) => boolean } = {}): FakeLedger {
  const rows = new Map<string, UsageEvent>();
  const calls: UsageEvent[][] = [];
  const appended: UsageEvent[] = [];
  const outcomes: Outcome[] = [];
  return {
    calls,
    appended,
    async append(events) {
      calls.push([...events]);
      if (options.fail?.(calls.length)) throw new Error(`ledger unavailable (call ${calls.length})`);
      for (const { event } of prepareUsageEvents(events)) if (!rows.has(event.requestId)) rows.set(event.requestId, event);
      appended.push(...events);
    },
    async get(requestIds) {
      return [...new Set(requestIds)].flatMap((requestId) => rows.get(requestId) ?? []);
    },
    async recordOutcomes(added) {
      outcomes.push(...added);
    },
    async outcomes() {
      return [...outcomes];
    },
    async count() {
      return rows.size;
    },
    async report() {
      throw new Error('the fake ledger does not report');
    },
    async unpricedModels() {
      throw new Error('the fake ledger does not report');
    },
    async outputStatistics() {
      throw new Error('the fake ledger does not report');
    },
    ...analyticsUnsupported('the fake ledger does not report'),
    async close() {},
  };
}


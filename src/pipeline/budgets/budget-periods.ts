import type { Picodollars } from '../../core/money.ts';
import type { KeyLimits } from '../../keys/virtual-key.ts';

/**
 * Budget counters count nanodollars in plain integers: exact in Redis (INCRBY) and in Lua's doubles
 * up to 2^53 (about $9M per key and period), where picodollars would overflow at $9k.
 */
export type Nanodollars = number;

export function toNanodollars(amount: Picodollars): Nanodollars {
  // Rounded up: a settled cost never counts less than it was.
  return Number((amount + 999n) / 1000n);
}

/** One budget a call is checked against: the key's daily or monthly budget for the period of the call. */
export interface BudgetCheck {
  /** "day:2026-12-04" or "month:2026-12" (UTC), the counter's name. */
  period: string;
  limit: Nanodollars;
  /** Period bounds, epoch ms; the ledger is summed over [start, end) to rebuild a lost counter. */
  start: number;
  end: number;
}

const DAY_MS = 86_400_000;

export function dayPeriod(at: number): { period: string; start: number; end: number } {
  const start = Math.floor(at / DAY_MS) * DAY_MS;
  return { period: `day:${new Date(start).toISOString().slice(0, 10)}`, start, end: start + DAY_MS };
}

export function monthPeriod(at: number): { period: string; start: number; end: number } {
  const date = new Date(at);
  const start = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  const end = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
  return { period: `month:${new Date(start).toISOString().slice(0, 7)}`, start, end };
}

/** The checks for a call made at `at`; empty when the key has no budget. */
export function budgetChecks(limits: KeyLimits, at: number): BudgetCheck[] {
  const checks: BudgetCheck[] = [];
  if (limits.dailyBudget !== undefined) checks.push({ ...dayPeriod(at), limit: toNanodollars(limits.dailyBudget) });
  if (limits.monthlyBudget !== undefined) checks.push({ ...monthPeriod(at), limit: toNanodollars(limits.monthlyBudget) });
  return checks;
}

/** Counters outlive their period by a day, so a call settling just after midnight still finds its period's counter. */
export function counterExpiry(check: BudgetCheck): number {
  return check.end + DAY_MS;
}

import { GROUP_BY_VALUES, type GroupBy, type ReportFilter } from './ledger.ts';

/**
 * The analytics queries as URL parameters and back, shared by the gateway's admin API, the CLI
 * reading through it and the dashboard. Money travels as decimal picodollar strings (JSON has no
 * 64-bit integers); `reviveMoney` turns the named fields back into bigints.
 */
export interface AnalyticsParameters {
  by?: string;
  top?: number;
  from?: number;
  to?: number;
  periodMs?: number;
  dimension?: string;
  model?: string;
  filter?: ReportFilter;
}

const NUMBERS = ['top', 'from', 'to', 'periodMs'] as const;
const STRINGS = ['by', 'dimension', 'model'] as const;
const FILTERS = ['feature', 'customer', 'provider', 'model'] as const;

export function analyticsSearch(parameters: AnalyticsParameters): URLSearchParams {
  const search = new URLSearchParams();
  for (const key of NUMBERS) if (parameters[key] !== undefined) search.set(key, String(parameters[key]));
  for (const key of STRINGS) if (parameters[key] !== undefined) search.set(key, parameters[key]);
  for (const key of FILTERS) {
    const value = parameters.filter?.[key];
    if (value) search.set(`filter.${key}`, value);
  }
  return search;
}

export function analyticsParameters(search: URLSearchParams): AnalyticsParameters {
  const parameters: AnalyticsParameters = {};
  for (const key of NUMBERS) {
    const text = search.get(key);
    if (text === null || text === '') continue;
    const value = Number(text);
    if (!Number.isFinite(value)) throw new RangeError(`${key} must be a number, got "${text}"`);
    parameters[key] = value;
  }
  for (const key of STRINGS) {
    const value = search.get(key);
    if (value) parameters[key] = value;
  }
  const filter: ReportFilter = {};
  for (const key of FILTERS) {
    const value = search.get(`filter.${key}`);
    if (value) filter[key] = value;
  }
  if (Object.keys(filter).length > 0) parameters.filter = filter;
  return parameters;
}

export function groupBy(value: string | undefined): GroupBy | undefined {
  if (value === undefined) return undefined;
  if (!GROUP_BY_VALUES.includes(value as GroupBy)) throw new RangeError(`by must be one of ${GROUP_BY_VALUES.join(', ')}, got "${value}"`);
  return value as GroupBy;
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item));
}

/** Deeply converts the named fields (picodollar strings) back to bigint. */
export function reviveMoney<T>(value: unknown, fields: readonly string[]): T {
  const names = new Set(fields);
  const walk = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(walk);
    if (item && typeof item === 'object') {
      return Object.fromEntries(
        Object.entries(item).map(([key, field]) => [key, names.has(key) && typeof field === 'string' ? BigInt(field) : walk(field)]),
      );
    }
    return item;
  };
  return walk(value) as T;
}

/** Money fields of every analytics answer, for reviveMoney. */
export const MONEY_FIELDS = [
  'cost',
  'totalCost',
  'currentCost',
  'previousCost',
  'change',
  'mean',
  'p50',
  'p90',
  'p95',
  'p99',
  'max',
  'measured',
  'estimated',
  'baselineCost',
  'cacheWritePremium',
  'cacheReadSavings',
] as const;

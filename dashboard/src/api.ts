/** The admin API, as the dashboard reads it. Money arrives as picodollar strings; shown as USD numbers. */

const KEY_STORAGE = 'costgate-admin-key';

export class Unauthorized extends Error {}

export function usd(picodollars: string | number | undefined | null): number {
  if (picodollars === undefined || picodollars === null) return 0;
  const text = String(picodollars);
  const negative = text.startsWith('-');
  const digits = (negative ? text.slice(1) : text).padStart(13, '0');
  const value = Number(`${digits.slice(0, -12)}.${digits.slice(-12)}`);
  return negative ? -value : value;
}

export function formatUsd(value: number): string {
  const absolute = Math.abs(value);
  const digits = absolute >= 100 ? 0 : absolute >= 1 ? 2 : 4;
  return `${value < 0 ? '-' : ''}$${absolute.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })}`;
}

export interface Filters {
  from: number;
  to: number;
  feature: string;
  customer: string;
}

function headers(): Record<string, string> {
  const key = sessionStorage.getItem(KEY_STORAGE);
  return key ? { authorization: `Bearer ${key}` } : {};
}

export function setKey(key: string): void {
  sessionStorage.setItem(KEY_STORAGE, key);
}

export async function get<T>(path: string, parameters: Record<string, string | number | undefined>): Promise<T> {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) if (value !== undefined && value !== '') search.set(name, String(value));
  const response = await fetch(`/costgate/admin/${path}?${search}`, { headers: headers() });
  if (response.status === 401) throw new Unauthorized('admin key required');
  const body = (await response.json()) as T & { error?: { message: string } };
  if (!response.ok) throw new Error(body.error?.message ?? `HTTP ${response.status}`);
  return body;
}

/** Parameters for /costgate/admin/report (filters as plain names). */
export function reportParameters(filters: Filters, by: string, top?: number): Record<string, string | number | undefined> {
  return { by, from: filters.from, to: filters.to, feature: filters.feature, customer: filters.customer, top };
}

/** Parameters for /costgate/admin/analytics/* (filters as filter.NAME). */
export function analyticsParameters(filters: Filters, extra: Record<string, string | number | undefined> = {}): Record<string, string | number | undefined> {
  return { from: filters.from, to: filters.to, 'filter.feature': filters.feature, 'filter.customer': filters.customer, ...extra };
}

export interface ReportRow {
  key: string | null;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  cost: string;
  baselineCost: string;
  unpricedRequests: number;
  cacheWritePremium: string;
  cacheReadSavings: string;
}

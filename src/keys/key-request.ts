import { PICODOLLARS_PER_USD, type Picodollars } from '../core/money.ts';
import type { KeyLimits, VirtualKey } from './virtual-key.ts';

/** What `POST /costgate/admin/keys` and `costgate keys create` accept. */
export interface KeyRequest {
  name: string;
  team?: string;
  customer?: string;
  models?: string[];
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  /** Decimal USD, e.g. "25" or "0.50"; a number is accepted too. */
  dailyBudgetUsd?: string | number;
  monthlyBudgetUsd?: string | number;
}

export class InvalidKeyRequestError extends Error {
  override name = 'InvalidKeyRequestError';
}

/** Exact decimal USD to picodollars (no float arithmetic). */
export function parseUsd(value: string | number, field: string): Picodollars {
  const text = String(value).trim();
  const match = /^(\d+)(?:\.(\d{1,12}))?$/.exec(text);
  if (!match) throw new InvalidKeyRequestError(`${field} must be a non-negative dollar amount with at most 12 decimals, got "${text}"`);
  return BigInt(match[1] ?? '0') * PICODOLLARS_PER_USD + BigInt((match[2] ?? '').padEnd(12, '0'));
}

function positiveInteger(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw new InvalidKeyRequestError(`${field} must be a positive integer`);
  return value;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw new InvalidKeyRequestError(`${field} must be a non-empty string`);
  return value.trim();
}

/** Validates an untrusted key request into the fields of a new key. */
export function keyFields(input: unknown): Omit<VirtualKey, 'id' | 'hash' | 'createdAt'> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new InvalidKeyRequestError('expected a JSON object');
  const request = input as Record<string, unknown>;
  const known = new Set(['name', 'team', 'customer', 'models', 'requestsPerMinute', 'tokensPerMinute', 'dailyBudgetUsd', 'monthlyBudgetUsd']);
  for (const field of Object.keys(request)) if (!known.has(field)) throw new InvalidKeyRequestError(`unknown field ${field}`);
  const name = optionalString(request.name, 'name');
  if (name === undefined) throw new InvalidKeyRequestError('name is required');
  const limits: KeyLimits = {};
  const requestsPerMinute = positiveInteger(request.requestsPerMinute, 'requestsPerMinute');
  const tokensPerMinute = positiveInteger(request.tokensPerMinute, 'tokensPerMinute');
  if (requestsPerMinute !== undefined) limits.requestsPerMinute = requestsPerMinute;
  if (tokensPerMinute !== undefined) limits.tokensPerMinute = tokensPerMinute;
  for (const [field, limit] of [['dailyBudgetUsd', 'dailyBudget'], ['monthlyBudgetUsd', 'monthlyBudget']] as const) {
    const value = request[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' && typeof value !== 'number') throw new InvalidKeyRequestError(`${field} must be a dollar amount`);
    limits[limit] = parseUsd(value, field);
  }
  const fields: Omit<VirtualKey, 'id' | 'hash' | 'createdAt'> = { name, limits };
  const team = optionalString(request.team, 'team');
  const customer = optionalString(request.customer, 'customer');
  if (team !== undefined) fields.team = team;
  if (customer !== undefined) fields.customer = customer;
  if (request.models !== undefined && request.models !== null) {
    const models = request.models;
    if (!Array.isArray(models) || models.length === 0 || !models.every((model) => typeof model === 'string' && model.trim() !== '')) {
      throw new InvalidKeyRequestError('models must be a non-empty list of model ids');
    }
    fields.models = models.map((model: string) => model.trim());
  }
  return fields;
}

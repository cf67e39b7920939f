import { createHash, randomBytes } from 'node:crypto';
import type { Picodollars } from '../core/money.ts';

/** Limits of one virtual key; an absent field is no limit. */
export interface KeyLimits {
  requestsPerMinute?: number;
  /** Input plus output tokens per minute. */
  tokensPerMinute?: number;
  /** Per UTC day. */
  dailyBudget?: Picodollars;
  /** Per UTC calendar month. */
  monthlyBudget?: Picodollars;
}

/** A gateway-issued API key as stored: the secret itself is never kept, only its SHA-256. */
export interface VirtualKey {
  /**
   * The first 12 hex digits of SHA-256 of the secret: the same id the attribution stage puts on
   * ledger rows as `apiKeyId`, so a key's spend is its rows.
   */
  id: string;
  /** Full SHA-256 of the secret, hex; what a presented key is looked up by. */
  hash: string;
  name: string;
  team?: string;
  customer?: string;
  /** Model ids the key may call; "prefix*" matches by prefix; absent = any model. */
  models?: string[];
  limits: KeyLimits;
  /** Epoch ms. */
  createdAt: number;
  revokedAt?: number;
}

export const KEY_ID_LENGTH = 12;
const SECRET_PREFIX = 'cg-';

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A new secret (256 random bits) and its stored record; the secret is shown once and not kept. */
export function issueKey(fields: Omit<VirtualKey, 'id' | 'hash' | 'createdAt'>, now = Date.now()): { secret: string; key: VirtualKey } {
  const secret = SECRET_PREFIX + randomBytes(32).toString('base64url');
  const hash = hashSecret(secret);
  return { secret, key: { ...fields, id: hash.slice(0, KEY_ID_LENGTH), hash, createdAt: now } };
}

export function modelAllowed(key: VirtualKey, model: string | undefined): boolean {
  if (!key.models) return true;
  if (model === undefined) return false;
  return key.models.some((pattern) => (pattern.endsWith('*') ? model.startsWith(pattern.slice(0, -1)) : model === pattern));
}

/** The JSON form stored in files, Postgres and sent by the admin API (budgets as decimal strings). */
export interface StoredKey {
  id: string;
  hash: string;
  name: string;
  team?: string;
  customer?: string;
  models?: string[];
  limits: { requestsPerMinute?: number; tokensPerMinute?: number; dailyBudget?: string; monthlyBudget?: string };
  createdAt: number;
  revokedAt?: number;
}

export function storedKey(key: VirtualKey): StoredKey {
  const { dailyBudget, monthlyBudget, ...counts } = key.limits;
  const limits: StoredKey['limits'] = { ...counts };
  if (dailyBudget !== undefined) limits.dailyBudget = dailyBudget.toString();
  if (monthlyBudget !== undefined) limits.monthlyBudget = monthlyBudget.toString();
  return { ...key, limits };
}

export function keyFromStored(stored: StoredKey): VirtualKey {
  const { dailyBudget, monthlyBudget, ...counts } = stored.limits;
  const limits: KeyLimits = { ...counts };
  if (dailyBudget !== undefined) limits.dailyBudget = BigInt(dailyBudget);
  if (monthlyBudget !== undefined) limits.monthlyBudget = BigInt(monthlyBudget);
  return { ...stored, limits };
}

/** What listings show: everything but the hash. */
export function publicKey(key: VirtualKey): Omit<StoredKey, 'hash'> {
  const { hash: _hash, ...rest } = storedKey(key);
  return rest;
}

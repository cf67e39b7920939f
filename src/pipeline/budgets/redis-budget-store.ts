import type { Redis } from 'ioredis';
import { counterExpiry, type BudgetCheck, type Nanodollars } from './budget-periods.ts';
import { SETTLED_MEMORY_MS, type BudgetStore, type ReserveOutcome, type ReserveRequest, type SettleRequest } from './budget-store.ts';
import { RedisScript, withTimeout } from './redis-script.ts';

// KEYS: 1 reservations (hash id -> amount), 2 their expiries (zset), 3 reserved total, 4.. spend counters.
// ARGV: 1 request id, 2 amount, 3 now, 4 ttl ms, 5.. limits in the order of KEYS 4..
const RESERVE = new RedisScript(`
local now = tonumber(ARGV[3])
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, id in ipairs(expired) do
  local held = redis.call('HGET', KEYS[1], id)
  if held and held ~= 'settled' then redis.call('DECRBY', KEYS[3], held) end
  redis.call('HDEL', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return {1} end
local missing = {}
for index = 4, #KEYS do
  if redis.call('EXISTS', KEYS[index]) == 0 then table.insert(missing, index - 3) end
end
if #missing > 0 then return {-1, missing} end
local reserved = tonumber(redis.call('GET', KEYS[3]) or '0')
if reserved < 0 then reserved = 0 end
local amount = tonumber(ARGV[2])
for index = 4, #KEYS do
  local spent = tonumber(redis.call('GET', KEYS[index]))
  if spent + reserved + amount > tonumber(ARGV[index + 1]) then
    return {0, index - 3, string.format('%.0f', spent), string.format('%.0f', reserved)}
  end
end
local ttl = tonumber(ARGV[4])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
redis.call('INCRBY', KEYS[3], ARGV[2])
for index = 1, 3 do redis.call('PEXPIRE', KEYS[index], ttl * 2) end
return {1}
`);

// KEYS: 1 reservations, 2 expiries, 3 reserved total, 4.. spend counters.
// ARGV: 1 request id, 2 cost, 3 now, 4 how long a settled id is remembered (ms).
// A settled call's entry stays, marked, for a while, so a repeated settle adds nothing; a settle
// that finds no entry (its reservation expired first) still adds its cost.
const SETTLE = new RedisScript(`
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held == 'settled' then return 0 end
if held then redis.call('DECRBY', KEYS[3], held) end
local remember = tonumber(ARGV[4])
redis.call('HSET', KEYS[1], ARGV[1], 'settled')
redis.call('ZADD', KEYS[2], tonumber(ARGV[3]) + remember, ARGV[1])
for index = 1, 3 do
  if redis.call('PTTL', KEYS[index]) < remember then redis.call('PEXPIRE', KEYS[index], remember) end
end
if tonumber(ARGV[2]) > 0 then
  for index = 4, #KEYS do
    if redis.call('EXISTS', KEYS[index]) == 1 then redis.call('INCRBY', KEYS[index], ARGV[2]) end
  end
end
return 1
`);

// KEYS: 1 sentinel (present while Redis keeps its data), 2 rebuild-not-before. ARGV: 1 now, 2 grace ms.
// A missing sentinel means Redis lost everything (or is new): start the grace, once for all replicas.
const REBUILD_NOT_BEFORE = new RedisScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('GET', KEYS[2]) or ARGV[1]
end
redis.call('SET', KEYS[1], ARGV[1])
local after = string.format('%.0f', tonumber(ARGV[1]) + tonumber(ARGV[2]))
redis.call('SET', KEYS[2], after, 'PX', math.max(1, tonumber(ARGV[2]) * 2))
return after
`);

/**
 * Budgets shared by replicas through Redis. A counter Redis lost (restart) is reported missing
 * and seeded again from the ledger with SET NX, never added to, so any number of replicas can
 * seed it at once without multiplying spend. Keys share a hash tag per virtual key (cluster-safe).
 */
export class RedisBudgetStore implements BudgetStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly timeoutMs = 500,
  ) {}

  private base(keyId: string): string {
    return `${this.prefix}budget:{${keyId}}`;
  }

  private reservationKeys(keyId: string): string[] {
    const base = this.base(keyId);
    return [`${base}:reservations`, `${base}:expiries`, `${base}:reserved`];
  }

  private counterKey(keyId: string, check: BudgetCheck): string {
    return `${this.base(keyId)}:spent:${check.period}`;
  }

  async reserve(request: ReserveRequest): Promise<ReserveOutcome> {
    const keys = [...this.reservationKeys(request.keyId), ...request.checks.map((check) => this.counterKey(request.keyId, check))];
    const args = [request.requestId, request.amount, request.now, request.ttlMs, ...request.checks.map((check) => check.limit)];
    const reply = (await RESERVE.run(this.redis, keys, args, this.timeoutMs)) as [number, ...unknown[]];
    if (reply[0] === 1) return { kind: 'reserved' };
    if (reply[0] === -1) {
      const missing = reply[1] as number[];
      return { kind: 'unseeded', checks: missing.map((index) => request.checks[index - 1]).filter((check) => check !== undefined) };
    }
    const check = request.checks[(reply[1] as number) - 1];
    if (!check) throw new Error(`budget script answered an unknown check ${String(reply[1])}`);
    return { kind: 'refused', check, spent: Number(reply[2]), reserved: Number(reply[3]) };
  }

  async seed(keyId: string, check: BudgetCheck, spent: Nanodollars, now: number): Promise<void> {
    const ttl = Math.max(1, counterExpiry(check) - now);
    await withTimeout(this.redis.set(this.counterKey(keyId, check), String(spent), 'PX', ttl, 'NX'), this.timeoutMs);
  }

  async settle(request: SettleRequest): Promise<void> {
    const keys = [...this.reservationKeys(request.keyId), ...request.checks.map((check) => this.counterKey(request.keyId, check))];
    await SETTLE.run(this.redis, keys, [request.requestId, request.cost, request.now, SETTLED_MEMORY_MS], this.timeoutMs);
  }

  async rebuildNotBefore(now: number, graceMs: number): Promise<number> {
    const keys = [`${this.prefix}budget:{restart}:sentinel`, `${this.prefix}budget:{restart}:not-before`];
    const reply = await REBUILD_NOT_BEFORE.run(this.redis, keys, [now, graceMs], this.timeoutMs);
    return Number(reply);
  }

  async spent(keyId: string, check: BudgetCheck): Promise<Nanodollars | undefined> {
    const value = await withTimeout(this.redis.get(this.counterKey(keyId, check)), this.timeoutMs);
    return value === null ? undefined : Number(value);
  }
}

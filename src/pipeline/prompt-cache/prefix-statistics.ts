import type { CacheTtl } from '../../providers/cache-layout.ts';

/**
 * What the planner knows about prompt prefixes: for each prefix (a hash of everything up to a block
 * boundary, per provider and model) how often it recurs and the gaps between recurrences; for each
 * feature and kind of position, how often a prefix seen for the first time comes back; and what the
 * planner's own breakpoints have cost and earned per feature.
 *
 * `PrefixStatistics` is the interface the planner uses; `MemoryPrefixStatistics` keeps everything in
 * bounded memory and serializes to a snapshot (persisted by planner-state-file.ts). A shared store
 * (Redis) can implement the same interface later. The interface is synchronous on purpose: the plan is
 * made on the request path, so a shared store would serve the planner from a local copy and merge
 * with the shared state in the background.
 */

export const FIVE_MINUTES = 5 * 60_000;
export const THIRTY_MINUTES = 30 * 60_000;
export const ONE_HOUR = 60 * 60_000;
export const TTL_MS: Record<CacheTtl, number> = { '5m': FIVE_MINUTES, '30m': THIRTY_MINUTES, '1h': ONE_HOUR };

/** The TTL whose lifetime is `ms` (the longest one not above it). */
function ttlOf(ms: number): CacheTtl {
  return ms >= ONE_HOUR ? '1h' : ms >= THIRTY_MINUTES ? '30m' : '5m';
}

/** Where a candidate breakpoint sits: the class whose first-recurrence rate is the prior for new prefixes. */
export type PositionKind = 'tools' | 'system' | 'document' | 'history' | 'tail';

/**
 * Gaps between consecutive occurrences of one prefix, resolved into the buckets the TTLs care about:
 * at most 5 minutes, (5, 30] minutes, (30, 60] minutes, longer. (Snapshots written before the 30-minute
 * TTL existed have no `within30m`: their (5, 30] gaps sit in `within1h`, which only understates the
 * 30-minute rate of those prefixes until new gaps come in.)
 */
export interface GapCounts {
  within5m: number;
  within30m: number;
  within1h: number;
  beyond: number;
}

export interface PrefixRecord {
  feature: string;
  kind: PositionKind;
  /**
   * The class whose first-recurrence rate is this prefix's prior: the kind, and for documents their
   * order (a first retrieved document comes back far more often than the pair of the first two).
   */
  positionClass: string;
  tokens: number;
  occurrences: number;
  firstSeen: number;
  lastSeen: number;
  gaps: GapCounts;
  /** Until when a provider cache entry for this prefix is believed alive (0: none known). */
  liveUntil: number;
  liveTtl: CacheTtl | undefined;
  /**
   * OpenAI: until when the provider's implicit cache is believed to hold this prefix at its 128-token
   * steps (0 or absent: not known). Such an entry is not found by an explicit breakpoint on the exact
   * offset, so it is tracked apart from `liveUntil`.
   */
  implicitUntil?: number;
}

/** Probability that the next occurrence comes within each TTL, with how much evidence backs it. */
export interface ReuseEstimate {
  within5m: number;
  within30m: number;
  within1h: number;
  /** Resolved gaps of the prefix itself. */
  ownGaps: number;
  /** First occurrences of the class (feature and kind) whose outcome is known. */
  classEvidence: number;
}

export interface FeatureAccount {
  /** Write premiums paid because of the planner's breakpoints, picodollars (positive). */
  premium: bigint;
  /** Read savings earned because of them, picodollars. */
  savings: bigint;
  /**
   * The part of `premium` paid more than an hour before the current hour began: every entry it wrote
   * has expired since, so it had its full chance to be read. Back-off judges on this part.
   */
  maturedPremium: bigint;
}

export interface PrefixStatistics {
  /** Records an occurrence of `key` at `now`; creates the record (first occurrence) when new. Returns it. */
  observe(key: string, now: number, create: PrefixCreation | undefined): PrefixRecord | undefined;
  peek(key: string): PrefixRecord | undefined;
  estimate(record: PrefixRecord | undefined, feature: string, positionClass: string, now: number): ReuseEstimate;
  /** A breakpoint was sent at this prefix and the call succeeded: the provider holds (or refreshed) an entry. */
  markLive(key: string, now: number, ttl: CacheTtl): void;
  /** The provider read nothing where an entry was believed alive: forget that belief. */
  markDead(key: string): void;
  /** OpenAI: a request in implicit mode wrote (or refreshed) this prefix at its 128-token steps. */
  markImplicit(key: string, until: number): void;
  account(feature: string, now: number, premium: bigint, savings: bigint): void;
  /** Premium and savings over the last day. */
  lastDay(feature: string, now: number): FeatureAccount;
  features(): string[];
}

export interface PrefixCreation {
  feature: string;
  kind: PositionKind;
  positionClass: string;
  tokens: number;
}

interface Occurrence {
  /** The prefix, so a restart can link a first occurrence back to its record. */
  key: string;
  time: number;
  /** Time to the prefix's second occurrence, once it happened. */
  gap?: number;
}

// Every class remembers this many recent first occurrences; enough for a stable rate, small to scan.
const CLASS_WINDOW = 256;
// A class needs this many known outcomes before its rate is trusted as a prior.
const CLASS_MINIMUM = 4;

/** True when an estimate rests on evidence: the prefix's own recurrences, or a trusted class rate. */
export function hasEvidence(estimate: ReuseEstimate): boolean {
  return estimate.ownGaps > 0 || estimate.classEvidence >= CLASS_MINIMUM;
}
// How many pseudo-observations the class prior is worth against a prefix's own gaps.
const PRIOR_STRENGTH = 2;
const HOUR_BUCKETS = 24;

export interface StatisticsSnapshot {
  version: 1;
  prefixes: Array<[string, PrefixRecord]>;
  classes: Array<[string, Occurrence[]]>;
  accounts: Array<[string, Array<[hour: number, premium: string, savings: string]>]>;
}

function bucket(gaps: GapCounts, gap: number): void {
  if (gap <= FIVE_MINUTES) gaps.within5m += 1;
  else if (gap <= THIRTY_MINUTES) gaps.within30m += 1;
  else if (gap <= ONE_HOUR) gaps.within1h += 1;
  else gaps.beyond += 1;
}

const CHECKPOINTS = [FIVE_MINUTES, THIRTY_MINUTES, ONE_HOUR] as const;

export class MemoryPrefixStatistics implements PrefixStatistics {
  readonly #prefixes = new Map<string, PrefixRecord>();
  readonly #classes = new Map<string, Occurrence[]>();
  // The first occurrence of each prefix still waiting for its second one.
  readonly #pendingFirst = new Map<string, Occurrence>();
  readonly #accounts = new Map<string, Map<number, { premium: bigint; savings: bigint }>>();
  readonly #maxPrefixes: number;
  #dirty = false;

  constructor(maxPrefixes = 50_000) {
    this.#maxPrefixes = maxPrefixes;
  }

  get dirty(): boolean {
    return this.#dirty;
  }

  get size(): number {
    return this.#prefixes.size;
  }

  observe(key: string, now: number, create: PrefixCreation | undefined): PrefixRecord | undefined {
    const record = this.#prefixes.get(key);
    if (record) {
      if (now > record.lastSeen) {
        const gap = now - record.lastSeen;
        bucket(record.gaps, gap);
        const first = this.#pendingFirst.get(key);
        if (first) {
          first.gap = gap;
          this.#pendingFirst.delete(key);
        }
        record.lastSeen = now;
      }
      record.occurrences += 1;
      // Least recently used last: re-insert.
      this.#prefixes.delete(key);
      this.#prefixes.set(key, record);
      this.#dirty = true;
      return record;
    }
    if (!create) return undefined;
    const created: PrefixRecord = {
      ...create,
      occurrences: 1,
      firstSeen: now,
      lastSeen: now,
      gaps: { within5m: 0, within30m: 0, within1h: 0, beyond: 0 },
      liveUntil: 0,
      liveTtl: undefined,
    };
    this.#prefixes.set(key, created);
    const occurrence: Occurrence = { key, time: now };
    this.#pendingFirst.set(key, occurrence);
    const classKey = `${create.feature}\u0000${create.positionClass}`;
    let window = this.#classes.get(classKey);
    if (!window) {
      window = [];
      this.#classes.set(classKey, window);
    }
    window.push(occurrence);
    if (window.length > CLASS_WINDOW) window.shift();
    this.#evict();
    this.#dirty = true;
    return created;
  }

  peek(key: string): PrefixRecord | undefined {
    return this.#prefixes.get(key);
  }

  estimate(record: PrefixRecord | undefined, feature: string, positionClass: string, now: number): ReuseEstimate {
    const prior = this.#classRate(feature, positionClass, now);
    const own = record?.gaps ?? { within5m: 0, within30m: 0, within1h: 0, beyond: 0 };
    const within30m = own.within5m + own.within30m;
    const ownGaps = within30m + own.within1h + own.beyond;
    // The open gap since the last occurrence counts once it is longer than the TTL in question.
    const open = record ? now - record.lastSeen : 0;
    const rate = (hits: number, known: number, priorRate: number | undefined) =>
      // Without a trusted class rate the prior is one pseudo-observation of "not read again":
      // a write premium with no read is pure loss, so caching waits for evidence.
      priorRate === undefined ? hits / (known + 1) : (hits + PRIOR_STRENGTH * priorRate) / (known + PRIOR_STRENGTH);
    return {
      within5m: rate(own.within5m, ownGaps + (open > FIVE_MINUTES ? 1 : 0), prior.within5m),
      within30m: rate(within30m, ownGaps + (open > THIRTY_MINUTES ? 1 : 0), prior.within30m),
      within1h: rate(within30m + own.within1h, ownGaps + (open > ONE_HOUR ? 1 : 0), prior.within1h),
      ownGaps,
      classEvidence: prior.evidence,
    };
  }

  markLive(key: string, now: number, ttl: CacheTtl): void {
    const record = this.#prefixes.get(key);
    if (!record) return;
    const ttlMs = Math.max(TTL_MS[ttl], record.liveUntil > now && record.liveTtl ? TTL_MS[record.liveTtl] : 0);
    record.liveTtl = ttlOf(ttlMs);
    record.liveUntil = now + ttlMs;
    this.#dirty = true;
  }

  markImplicit(key: string, until: number): void {
    const record = this.#prefixes.get(key);
    if (!record || (record.implicitUntil ?? 0) >= until) return;
    record.implicitUntil = until;
    this.#dirty = true;
  }

  markDead(key: string): void {
    const record = this.#prefixes.get(key);
    if (!record || record.liveUntil === 0) return;
    record.liveUntil = 0;
    record.liveTtl = undefined;
    this.#dirty = true;
  }

  account(feature: string, now: number, premium: bigint, savings: bigint): void {
    if (premium === 0n && savings === 0n) return;
    let hours = this.#accounts.get(feature);
    if (!hours) {
      hours = new Map();
      this.#accounts.set(feature, hours);
    }
    const hour = Math.floor(now / ONE_HOUR);
    const entry = hours.get(hour) ?? { premium: 0n, savings: 0n };
    entry.premium += premium;
    entry.savings += savings;
    hours.set(hour, entry);
    for (const old of hours.keys()) if (old <= hour - HOUR_BUCKETS) hours.delete(old);
    this.#dirty = true;
  }

  lastDay(feature: string, now: number): FeatureAccount {
    const total = { premium: 0n, savings: 0n, maturedPremium: 0n };
    const hour = Math.floor(now / ONE_HOUR);
    for (const [start, entry] of this.#accounts.get(feature) ?? []) {
      if (start > hour - HOUR_BUCKETS) {
        total.premium += entry.premium;
        total.savings += entry.savings;
        if (start < hour - 1) total.maturedPremium += entry.premium;
      }
    }
    return total;
  }

  features(): string[] {
    return [...this.#accounts.keys()];
  }

  snapshot(): StatisticsSnapshot {
    this.#dirty = false;
    return {
      version: 1,
      prefixes: [...this.#prefixes],
      classes: [...this.#classes],
      accounts: [...this.#accounts].map(([feature, hours]) => [
        feature,
        [...hours].map(([hour, entry]) => [hour, entry.premium.toString(), entry.savings.toString()] as [number, string, string]),
      ]),
    };
  }

  restore(snapshot: StatisticsSnapshot): void {
    if (snapshot.version !== 1) return;
    for (const [key, record] of snapshot.prefixes) {
      this.#prefixes.set(key, { ...record, gaps: { ...record.gaps, within30m: record.gaps.within30m ?? 0 }, liveTtl: record.liveTtl });
    }
    for (const [classKey, window] of snapshot.classes) {
      const kept = window.slice(-CLASS_WINDOW);
      this.#classes.set(classKey, kept);
      for (const occurrence of kept) {
        if (occurrence.gap === undefined && this.#prefixes.get(occurrence.key)?.occurrences === 1) this.#pendingFirst.set(occurrence.key, occurrence);
      }
    }
    for (const [feature, hours] of snapshot.accounts) {
      this.#accounts.set(feature, new Map(hours.map(([hour, premium, savings]) => [hour, { premium: BigInt(premium), savings: BigInt(savings) }])));
    }
    this.#evict();
  }

  /**
   * The share of this class's first occurrences that came back within each TTL; undefined when too
   * little is known. Outcomes are censored: an occurrence not yet followed has only survived as long as
   * its age. Counting it only once it is older than a TTL, while counting returns of any age at once,
   * would select on the outcome and overstate the rate; so the rates come from a Kaplan-Meier estimate
   * over the window (returns are events at their gap, the others are censored at their age). Past the
   * oldest outcome seen the curve stays flat: an unseen later return is not assumed.
   */
  #classRate(feature: string, positionClass: string, now: number): { within5m?: number; within30m?: number; within1h?: number; evidence: number } {
    const window = this.#classes.get(`${feature}\u0000${positionClass}`);
    if (!window) return { evidence: 0 };
    let known = 0;
    // Each occurrence as (observed time * 2 + censored): one numeric sort puts returns before
    // censorings at the same time, as Kaplan-Meier wants.
    const times = new Float64Array(window.length);
    window.forEach((occurrence, index) => {
      const censored = occurrence.gap === undefined;
      const observed = Math.max(0, Math.round(censored ? now - occurrence.time : (occurrence.gap ?? 0)));
      if (!censored || observed > FIVE_MINUTES) known += 1;
      times[index] = observed * 2 + (censored ? 1 : 0);
    });
    if (known < CLASS_MINIMUM) return { evidence: known };
    times.sort();
    const returned: number[] = [];
    let atRisk = times.length;
    let survival = 1;
    for (const encoded of times) {
      const time = Math.floor(encoded / 2);
      while (returned.length < CHECKPOINTS.length && time > (CHECKPOINTS[returned.length] ?? 0)) returned.push(1 - survival);
      if (returned.length === CHECKPOINTS.length) break;
      if (encoded % 2 === 0) survival *= 1 - 1 / atRisk;
      atRisk -= 1;
    }
    while (returned.length < CHECKPOINTS.length) returned.push(1 - survival);
    const [within5m = 0, within30m = 0, within1h = 0] = returned;
    return { within5m, within30m, within1h, evidence: known };
  }

  #evict(): void {
    while (this.#prefixes.size > this.#maxPrefixes) {
      const oldest = this.#prefixes.keys().next();
      if (oldest.done === true) return;
      this.#prefixes.delete(oldest.value);
      this.#pendingFirst.delete(oldest.value);
    }
  }
}

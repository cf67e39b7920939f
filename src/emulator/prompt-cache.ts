import { createHash } from 'node:crypto';
import { BoundedMap } from './bounded-map.ts';

/**
 * The two prompt-caching models the providers document (provider-facts §1), driven by a clock the
 * tests control:
 * - `PrefixCache`: OpenAI's automatic caching of the longest previously seen token prefix, and on
 *   gpt-5.6+ the explicit `prompt_cache_breakpoint`s that end a prefix at an exact token.
 * - `BreakpointCache`: Anthropic `cache_control` and Bedrock `cachePoint` breakpoints.
 */

export interface Clock {
  now(): number;
}

// ---------------------------------------------------------------------------------------------
// OpenAI automatic prefix caching
// ---------------------------------------------------------------------------------------------

/** Prompts shorter than this are never cached. */
export const PREFIX_MINIMUM_TOKENS = 1024;
/** Hits grow in steps of this many tokens past the minimum. */
export const PREFIX_STEP_TOKENS = 128;
/**
 * OpenAI evicts in-memory entries after 5-10 minutes idle; the emulator takes the upper end so that a
 * test which advances the clock by 5 minutes plus a little still sees a hit, and one that advances by
 * more than 10 minutes sees a miss.
 */
export const PREFIX_IDLE_MS = 10 * 60_000;
/** gpt-5.6+: `prompt_cache_options.ttl` is `30m`, the only value, and the default. */
export const PROMPT_CACHE_TTL_MS = 30 * 60_000;
/** `prompt_cache_retention: "24h"` keeps entries for a day. */
export const PREFIX_EXTENDED_MS = 24 * 60 * 60_000;

export interface PrefixUsage {
  /** Tokens served from cache: 0, or 1024 + k*128 (implicit), or an explicit breakpoint's exact offset. */
  cachedTokens: number;
  /** Tokens newly stored by this request (the part of the cacheable prefix that missed). */
  writtenTokens: number;
}

/** Explicit breakpoints of one gpt-5.6+ request (`prompt_cache_options`, `prompt_cache_breakpoint`). */
export interface PrefixCacheRequest {
  /** Token offsets where a marked content part ends, in prompt order. */
  breakpoints?: readonly number[];
  /**
   * `implicit` (the default): the automatic entry at every 128-token step plus the latest three explicit
   * breakpoints; `explicit`: only the latest four explicit breakpoints, and nothing at all without one.
   */
  mode?: 'implicit' | 'explicit';
}

/** Matching considers up to this many of a request's latest explicit breakpoints (provider-facts §1.1). */
export const MATCHED_BREAKPOINTS = 80;
/** Explicit breakpoints written per request: four in explicit mode, three beside the implicit one. */
export const WRITTEN_BREAKPOINTS = { explicit: 4, implicit: 3 } as const;

export class PrefixCache {
  readonly #clock: Clock;
  readonly #expiries: BoundedMap<string, number>;

  constructor(clock: Clock, maxEntries = 200_000) {
    this.#clock = clock;
    this.#expiries = new BoundedMap({ maxEntries });
  }

  /**
   * `namespace` separates caches (model and prompt_cache_key); `tokens` is the whole prompt in order.
   * Implicitly, every 128-token boundary from 1024 on is remembered, so a later prompt that shares any
   * prefix hits at the last boundary inside the shared part. An explicit breakpoint remembers its exact
   * offset, and is matched only where a later request marks the same offset (there is no lookback:
   * an entry is found through a breakpoint that ends exactly on it, or through an implicit boundary).
   * Entries are one store keyed by the prefix itself, so an explicit offset on a 128-token boundary and
   * the implicit entry there are the same entry.
   */
  apply(namespace: string, tokens: Uint32Array, idleMs = PREFIX_IDLE_MS, request: PrefixCacheRequest = {}): PrefixUsage {
    if (tokens.length < PREFIX_MINIMUM_TOKENS) return { cachedTokens: 0, writtenTokens: 0 };
    const now = this.#clock.now();
    const mode = request.mode ?? 'implicit';
    const marked = [...new Set(request.breakpoints ?? [])]
      .filter((offset) => offset >= PREFIX_MINIMUM_TOKENS && offset <= tokens.length)
      .sort((a, b) => a - b);
    const matched = marked.slice(-MATCHED_BREAKPOINTS);
    const writers = marked.slice(-WRITTEN_BREAKPOINTS[mode]);
    const boundaries: number[] = [];
    if (mode === 'implicit') {
      for (let boundary = PREFIX_MINIMUM_TOKENS; boundary <= tokens.length; boundary += PREFIX_STEP_TOKENS) boundaries.push(boundary);
    }
    const keys = prefixKeysAt(namespace, tokens, [...new Set([...boundaries, ...matched])].sort((a, b) => a - b));
    let cachedTokens = 0;
    for (const offset of [...boundaries, ...matched]) {
      if (offset <= cachedTokens) continue;
      const expiresAt = this.#expiries.get(keys.get(offset) ?? '');
      if (expiresAt !== undefined && expiresAt > now) cachedTokens = offset;
    }
    // Storing writes the new entries and refreshes the ones just read.
    for (const offset of boundaries) this.#expiries.set(keys.get(offset) ?? '', now + idleMs);
    for (const offset of writers) this.#expiries.set(keys.get(offset) ?? '', now + idleMs);
    if (cachedTokens > 0) this.#expiries.set(keys.get(cachedTokens) ?? '', now + idleMs);
    const writtenEnd = Math.max(boundaries.at(-1) ?? 0, writers.at(-1) ?? 0);
    return { cachedTokens, writtenTokens: Math.max(0, writtenEnd - cachedTokens) };
  }

  clear(): void {
    this.#expiries.clear();
  }
}

/** One key per offset (ascending), each a hash of the namespace and every token before it. */
function prefixKeysAt(namespace: string, tokens: Uint32Array, offsets: readonly number[]): Map<number, string> {
  const bytes = Buffer.from(tokens.buffer, tokens.byteOffset, tokens.byteLength);
  const hash = createHash('sha1').update(namespace).update('\u0000');
  const keys = new Map<number, string>();
  let hashedTokens = 0;
  for (const offset of offsets) {
    hash.update(bytes.subarray(hashedTokens * 4, offset * 4));
    hashedTokens = offset;
    keys.set(offset, hash.copy().digest('base64'));
  }
  return keys;
}

// ---------------------------------------------------------------------------------------------
// Anthropic / Bedrock breakpoints
// ---------------------------------------------------------------------------------------------

export type CacheTtl = '5m' | '1h';

export const TTL_MS: Record<CacheTtl, number> = { '5m': 5 * 60_000, '1h': 60 * 60_000 };

export const MAX_BREAKPOINTS = 4;
/** From a breakpoint, earlier boundaries are checked for a hit, this many blocks in all. */
export const LOOKBACK_BLOCKS = 20;

/** One cacheable unit of a prompt, in prefix order (tools, then system, then messages). */
export interface PromptBlock {
  /** What makes the block itself; equal identities in equal positions mean an equal prefix. */
  identity: string;
  tokens: number;
  /** Set when a breakpoint (cache_control / cachePoint) ends at this block. */
  breakpoint?: CacheTtl;
}

export interface BreakpointUsage {
  totalTokens: number;
  /** Neither read from nor written to the cache. */
  uncachedTokens: number;
  readTokens: number;
  write5mTokens: number;
  write1hTokens: number;
}

/** The provider's rejection message for an invalid set of breakpoints, or undefined when valid. */
export function breakpointProblem(blocks: readonly PromptBlock[]): string | undefined {
  let count = 0;
  let seenShortTtl = false;
  for (const block of blocks) {
    if (block.breakpoint === undefined) continue;
    count += 1;
    if (block.breakpoint === '5m') seenShortTtl = true;
    else if (seenShortTtl) {
      return 'a ttl="1h" cache_control block must not come after a ttl="5m" cache_control block; 1h breakpoints must come first';
    }
  }
  if (count > MAX_BREAKPOINTS) {
    return `A maximum of ${MAX_BREAKPOINTS} blocks with cache_control may be provided. Found ${count}.`;
  }
  return undefined;
}

interface BreakpointEntry {
  expiresAt: number;
  ttlMs: number;
}

export class BreakpointCache {
  readonly #clock: Clock;
  readonly #entries: BoundedMap<string, BreakpointEntry>;

  constructor(clock: Clock, maxEntries = 200_000) {
    this.#clock = clock;
    this.#entries = new BoundedMap({ maxEntries });
  }

  /**
   * Reads the longest live prefix reachable from any breakpoint (looking back at most 20 blocks),
   * then writes entries at the breakpoints after it. A breakpoint whose prefix is shorter than
   * `minimumTokens` creates nothing; its tokens are written by the next breakpoint that qualifies.
   */
  apply(namespace: string, blocks: readonly PromptBlock[], minimumTokens: number): BreakpointUsage {
    const cumulative: number[] = [];
    let totalTokens = 0;
    const breakpoints: number[] = [];
    blocks.forEach((block, index) => {
      totalTokens += block.tokens;
      cumulative.push(totalTokens);
      if (block.breakpoint !== undefined) breakpoints.push(index);
    });
    const lastBreakpoint = breakpoints.at(-1);
    const usage = { totalTokens, uncachedTokens: totalTokens, readTokens: 0, write5mTokens: 0, write1hTokens: 0 };
    if (lastBreakpoint === undefined) return usage;

    const keys = prefixKeys(namespace, blocks, lastBreakpoint);
    const now = this.#clock.now();
    const hit = this.#longestHit(keys, breakpoints, now);
    if (hit >= 0) {
      usage.readTokens = cumulative[hit] ?? 0;
      this.#refresh(keys, hit, breakpoints, blocks, now);
    }

    let writtenUpTo = hit >= 0 ? (cumulative[hit] ?? 0) : 0;
    for (const index of breakpoints) {
      const prefixTokens = cumulative[index] ?? 0;
      if (index <= hit || prefixTokens < minimumTokens) continue;
      const ttl = blocks[index]?.breakpoint ?? '5m';
      const written = prefixTokens - writtenUpTo;
      if (ttl === '1h') usage.write1hTokens += written;
      else usage.write5mTokens += written;
      writtenUpTo = prefixTokens;
      this.#entries.set(keys[index] ?? '', { expiresAt: now + TTL_MS[ttl], ttlMs: TTL_MS[ttl] });
    }
    usage.uncachedTokens = totalTokens - usage.readTokens - usage.write5mTokens - usage.write1hTokens;
    return usage;
  }

  clear(): void {
    this.#entries.clear();
  }

  #live(key: string | undefined, now: number): BreakpointEntry | undefined {
    if (key === undefined) return undefined;
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > now) return entry;
    this.#entries.delete(key);
    return undefined;
  }

  #longestHit(keys: readonly string[], breakpoints: readonly number[], now: number): number {
    let hit = -1;
    for (const breakpoint of breakpoints) {
      const stop = Math.max(0, breakpoint - LOOKBACK_BLOCKS + 1);
      for (let index = breakpoint; index >= stop && index > hit; index -= 1) {
        if (this.#live(keys[index], now) !== undefined) {
          hit = index;
          break;
        }
      }
    }
    return hit;
  }

  /** A read keeps the entry (and the live entries at this request's earlier breakpoints) alive. */
  #refresh(
    keys: readonly string[],
    hit: number,
    breakpoints: readonly number[],
    blocks: readonly PromptBlock[],
    now: number,
  ): void {
    for (const index of new Set([...breakpoints.filter((breakpoint) => breakpoint < hit), hit])) {
      const entry = this.#live(keys[index], now);
      if (entry === undefined) continue;
      const requested = blocks[index]?.breakpoint;
      const ttlMs = Math.max(entry.ttlMs, requested === undefined ? 0 : TTL_MS[requested]);
      entry.ttlMs = ttlMs;
      entry.expiresAt = now + ttlMs;
    }
  }
}

/** Chained hashes: key i covers the namespace and blocks 0..i, so equal keys mean equal prefixes. */
function prefixKeys(namespace: string, blocks: readonly PromptBlock[], through: number): string[] {
  const hash = createHash('sha1').update(namespace).update('\u0000');
  const keys: string[] = [];
  for (let index = 0; index <= through; index += 1) {
    hash.update(blocks[index]?.identity ?? '').update('\u0000');
    keys.push(`${namespace}\u0000${hash.copy().digest('base64')}`);
  }
  return keys;
}

/**
 * A request's prompt as the provider caches it: blocks in prefix order (tools, then system, then
 * messages), which of them carry a breakpoint already, and a way to add one. Each provider builds it
 * from its own wire shape (anthropic/, bedrock/, openai/), so the prompt-cache planner never touches
 * wire fields itself.
 */

/** Anthropic and Bedrock: 5m or 1h; OpenAI gpt-5.6+ explicit breakpoints: 30m, the only one. */
export type CacheTtl = '5m' | '30m' | '1h';

export type CacheSection = 'tools' | 'system' | 'messages';

export interface CacheBlock {
  section: CacheSection;
  /**
   * The block's content with any cache marker left out, in a form that does not depend on how the
   * client spelled it (a string content equals one text block): equal keys in equal positions mean an
   * equal prefix.
   */
  key: string;
  /** What the provider tokenizes for this block. */
  text: string;
  /** Index of the message the block belongs to (messages section only). */
  message?: number;
  role?: string;
  /** False for blocks that cannot end a cached prefix (Anthropic thinking blocks). */
  markable: boolean;
  /** A breakpoint the client itself put at the end of this block. */
  clientTtl?: CacheTtl;
}

export interface CacheLayout {
  blocks: CacheBlock[];
  /** The client asked for the provider's automatic placement (Anthropic top-level cache_control): leave it alone. */
  automatic: boolean;
  /** Adds a breakpoint at the end of block `index`, editing the request body in place. */
  mark(index: number, ttl: CacheTtl): void;
}

/** Cache rules of one model as the planner needs them. */
export interface CacheRules {
  /** Smallest prefix the provider caches; shorter breakpoints silently write nothing. */
  minimumTokens: number;
  /**
   * `cumulative`: a breakpoint needs `minimumTokens` counted from the start of the prompt (Anthropic API).
   * `spacing`: each breakpoint needs `minimumTokens` more than the one before it (Bedrock's checkpoint rule).
   */
  minimumRule: 'cumulative' | 'spacing';
  ttls: readonly CacheTtl[];
  maxBreakpoints: number;
  /**
   * How many blocks back from a breakpoint the provider looks for an earlier entry, the breakpoint
   * included: 20 on Anthropic and Bedrock; 1 on OpenAI, whose explicit entries are found only through a
   * breakpoint that ends exactly on them.
   */
  lookbackBlocks: number;
}

/** The first rule whose pattern matches the model id, else the fallback. */
export function matchRule<T>(model: string, table: ReadonlyArray<readonly [RegExp, T]>, fallback: T): T {
  for (const [pattern, value] of table) if (pattern.test(model)) return value;
  return fallback;
}

import { countTokens } from 'gpt-tokenizer';

/**
 * Token counts for minimum-length checks and segment sizes. The o200k BPE is exact for OpenAI and an
 * approximation for Claude, whose tokenizer is not public; it is consistent (the same text always
 * counts the same), and it tends to count fewer tokens than Claude does, so a prefix it finds long
 * enough is long enough. A breakpoint placed under the real minimum costs nothing anyway: the
 * provider caches nothing and bills nothing extra.
 *
 * A long system prompt is sent on every call, so counts are memoized by text; BPE is the only heavy
 * work the planner does. A long text seen for the first time is estimated (4 characters a token) and
 * counted exactly off the response path, so a new 30 KB prompt adds no tokenizer time to its call;
 * the planner rarely caches a prefix on first sight anyway (it waits for evidence of reuse).
 */

// Prompts may contain text such as "<|endoftext|>"; count it as plain text instead of throwing.
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

// Longer texts are counted inline only once known; ~1 ms of BPE per 4,000 characters.
const INLINE_CHARACTERS = 4000;
const MAX_PENDING = 64;

export class TokenCounter {
  readonly #counts = new Map<string, number>();
  readonly #maxCharacters: number;
  readonly #inlineCharacters: number;
  readonly #pending = new Set<string>();
  #scheduled = false;
  #characters = 0;

  constructor(maxCharacters = 32_000_000, inlineCharacters = INLINE_CHARACTERS) {
    this.#maxCharacters = maxCharacters;
    this.#inlineCharacters = inlineCharacters;
  }

  /** Exact when the text is short or already counted; otherwise an estimate, counted exactly soon after. */
  count(text: string): number {
    const known = this.#counts.get(text);
    if (known === undefined && text.length > this.#inlineCharacters) {
      if (this.#pending.size < MAX_PENDING) this.#pending.add(text);
      this.#schedule();
      return Math.ceil(text.length / 4);
    }
    return this.exact(text);
  }

  /** True when `count(text)` gives the exact count now, not an estimate. */
  knows(text: string): boolean {
    return text.length <= this.#inlineCharacters || this.#counts.has(text);
  }

  /** Waits until every text queued for counting is counted (tests and benchmarks). */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await new Promise((resolve) => setImmediate(resolve));
  }

  #schedule(): void {
    if (this.#scheduled || this.#pending.size === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      const next = this.#pending.values().next();
      if (next.done === true) return;
      this.#pending.delete(next.value);
      this.exact(next.value);
      this.#schedule();
    });
  }

  exact(text: string): number {
    if (text.length === 0) return 0;
    const known = this.#counts.get(text);
    if (known !== undefined) {
      // Re-insert to keep the most recently used texts at the end (LRU order).
      this.#counts.delete(text);
      this.#counts.set(text, known);
      return known;
    }
    // Short texts are cheap to count and not worth the memory of a cache entry.
    const tokens = countTokens(text, PLAIN_TEXT);
    if (text.length < 64) return tokens;
    this.#counts.set(text, tokens);
    this.#characters += text.length;
    while (this.#characters > this.#maxCharacters && this.#counts.size > 1) {
      const oldest = this.#counts.keys().next();
      if (oldest.done === true) break;
      this.#characters -= oldest.value.length;
      this.#counts.delete(oldest.value);
    }
    return tokens;
  }
}

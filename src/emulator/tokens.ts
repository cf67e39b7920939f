import { encode } from 'gpt-tokenizer';
import { BoundedMap } from './bounded-map.ts';

/**
 * Token counting with the real o200k BPE. Exactness against each provider's own tokenizer is not the
 * goal; the same text must always give the same count, and repeated text (a long system prompt sent
 * on every call) must not be tokenized again, because BPE is the only heavy work per request.
 */

// Prompts may legitimately contain text such as "<|endoftext|>"; count it as plain text instead of throwing.
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

const MAX_CACHED_TOKENS = 4_000_000;

const cache = new BoundedMap<string, Uint32Array>({
  maxEntries: 20_000,
  maxWeight: MAX_CACHED_TOKENS,
  // Weigh the key too: a cached prompt holds its text as well as its ids.
  weigh: (text, ids) => ids.length + Math.ceil(text.length / 4),
});

const EMPTY = new Uint32Array(0);

export function tokenize(text: string): Uint32Array {
  if (text.length === 0) return EMPTY;
  const cached = cache.get(text);
  if (cached !== undefined) return cached;
  const ids = Uint32Array.from(encode(text, PLAIN_TEXT));
  cache.set(text, ids);
  return ids;
}

export function countTokens(text: string): number {
  return tokenize(text).length;
}

/** Joins per-block token ids into one prompt sequence, as the prefix cache needs it. */
export function concatTokens(parts: readonly Uint32Array[]): Uint32Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const joined = new Uint32Array(length);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

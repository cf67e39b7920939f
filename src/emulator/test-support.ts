import { countTokens } from './tokens.ts';

/** Helpers shared by the emulator's tests. */

/**
 * Text of exactly `tokens` o200k tokens (" word" is one token and never merges with its neighbours),
 * with a distinct leading word so different prompts do not share a cache prefix by accident.
 */
export function textOfTokens(tokens: number, lead = 'Alpha', word = 'cost'): string {
  return `${lead}${` ${word}`.repeat(tokens - countTokens(lead))}`;
}

/** Polls until `check` holds or the timeout passes. */
export async function eventually(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

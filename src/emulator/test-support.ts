import { after, before } from 'node:test';
import { type RunningEmulator, startEmulator } from './index.ts';
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

/**
 * Starts an emulator for the calling test file (closed after its tests) and returns a JSON poster
 * for it: status and parsed body.
 */
export function useEmulator(): { post(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: Record<string, any> }> } {
  let emulator: RunningEmulator | undefined;
  before(async () => {
    emulator = await startEmulator();
  });
  after(() => emulator?.close());
  return {
    async post(path, body, headers = {}) {
      if (!emulator) throw new Error('the emulator is not started yet (call post inside a test)');
      const response = await fetch(`${emulator.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    },
  };
}

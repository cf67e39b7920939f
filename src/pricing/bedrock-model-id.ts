/**
 * Bedrock model ids as clients send them, and the ids to try against the price data.
 *
 * genai-prices already matches the usual forms and keeps their prices apart:
 *   anthropic.claude-sonnet-4-5-20250929-v1:0          in-region on-demand  -> regional row
 *   us.|eu.|apac.|au.|jp.|us-gov.anthropic.claude-...  geographic profile   -> regional row
 *   global.anthropic.claude-...                         global profile       -> global row
 * For newer models AWS charges regional endpoints and geographic cross-region profiles 10% more than
 * the global profile; the data encodes that as separate "regional." rows (Sonnet 4.5: 3.30 vs 3.00
 * input), so the id must reach the matcher unchanged: stripping "us." or "global." first would lose the
 * difference. Older models (Sonnet 4, Claude 3.x) have one price for both.
 *
 * So the raw id is tried first, and only if it does not match:
 *   1. a URL-encoded id (`...-v1%3A0`) is decoded;
 *   2. an ARN (`arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-...`, or an
 *      inference-profile ARN) is reduced to the id after its last '/';
 *   3. a geographic prefix (us., eu., apac., ...) is removed. That keeps the price class, since a
 *      geographic profile costs the same as the in-region model. `global.` is never removed: that would
 *      turn a global price into a regional one.
 * Application inference profile ARNs name no model and stay unpriced; price them with an override.
 */
const GEOGRAPHIC_PREFIX = /^(?:us|us-gov|eu|apac|au|jp|ca|in)\./;

export function bedrockModelIdCandidates(model: string): string[] {
  const candidates: string[] = [];
  const add = (id: string): void => {
    if (id !== '' && !candidates.includes(id)) candidates.push(id);
  };
  let id = model.trim();
  add(id);
  if (id.includes('%')) {
    try {
      id = decodeURIComponent(id);
      add(id);
    } catch {
      // Not valid percent-encoding: keep the id as it is.
    }
  }
  if (id.startsWith('arn:')) {
    id = id.slice(id.lastIndexOf('/') + 1);
    add(id);
  }
  add(id.replace(GEOGRAPHIC_PREFIX, ''));
  return candidates;
}

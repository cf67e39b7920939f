import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Outcome } from '../src/core/outcome.ts';
import { startStack, type Stack } from './support/stack.ts';

// Routed prompts and feedback comments are kept with the ledger as training data (router
// capturePrompts, on by default when the router is): never with a credential, email or card in them.
const KEY = 'sk-proj-RouterPromptCanary3e5g7i9k1m3o5q7s';
const PROMPT = `Why does ${KEY} fail for ops@acme-corp.com? Card 4242 4242 4242 4242 was charged.`;
const REDACTED = 'Why does [REDACTED:api_key] fail for [REDACTED:email]? Card [REDACTED:card_number] was charged.';

let stack: Stack;

before(async () => {
  stack = await startStack({
    router: {
      enabled: true,
      features: {
        routed: { strategy: 'cascade', tiers: ['gpt-4o-mini', 'gpt-4o'] },
        shadowed: { strategy: 'cascade', tiers: ['gpt-4o-mini', 'gpt-4o'], shadow: { rate: 1, judge: 'gpt-4o-mini-emu-confidence-70' } },
      },
    },
  });
});
after(() => stack?.close());

async function call(feature: string): Promise<string> {
  const response = await fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-client', 'x-costgate-feature': feature },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: PROMPT }] }),
  });
  assert.equal(response.status, 200);
  await response.arrayBuffer();
  return response.headers.get('x-costgate-request-id') ?? '';
}

async function outcomeOf(requestId: string, source: Outcome['source']): Promise<Outcome> {
  // The shadow comparison finishes after the client's answer; poll for it (no fixed wait).
  for (let attempt = 0; attempt < 250; attempt += 1) {
    const found = (await stack.gateway.ledger.outcomes({ source })).find((outcome) => outcome.requestId === requestId);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no ${source} outcome for ${requestId}`);
}

test('a routed prompt kept for feedback is redacted, and so is the feedback comment', async () => {
  const requestId = await call('routed');
  const response = await fetch(`${stack.url}/costgate/feedback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-client' },
    body: JSON.stringify({ requestId, thumbs: 'down', comment: `wrong, and it repeated ${KEY}; reach me at ops@acme-corp.com` }),
  });
  assert.equal(response.status, 200);
  const outcome = await outcomeOf(requestId, 'feedback');
  assert.equal(outcome.prompt, REDACTED);
  assert.deepEqual(outcome.detail, { thumbs: 'down', comment: 'wrong, and it repeated [REDACTED:api_key]; reach me at [REDACTED:email]' });
});

test('a shadow comparison stores the prompt redacted', async () => {
  const requestId = await call('shadowed');
  const outcome = await outcomeOf(requestId, 'shadow');
  assert.equal(outcome.prompt, REDACTED);
});

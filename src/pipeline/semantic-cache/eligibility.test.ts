import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RESPONSE_CACHE_POLICY_DEFAULTS } from '../../config/response-cache-config.ts';
import type { SemanticView } from '../../providers/response-cache-view.ts';
import { looksUserSpecific, semanticIneligibility } from './eligibility.ts';

const policy = { ...RESPONSE_CACHE_POLICY_DEFAULTS };

function view(overrides: Partial<SemanticView>): SemanticView {
  return { prompt: 'What is the refund policy?', context: '{}', userTurns: 1, priorTurns: 0, hasTools: false, hasMedia: false, temperature: undefined, ...overrides };
}

test('personal details are caught', () => {
  for (const text of [
    'Why was my card 4111 1111 1111 1111 declined?',
    'Send the invoice to jane.doe@example.com',
    'Where is order #48213?',
    'Why was I charged $49.99 twice?',
    'I was billed 120 EUR for nothing',
    'My name is Priya, can you check my plan?',
    'my address is 12 Elm Street, is delivery free?',
    'Can my friend Tomas use my account?',
    'Track parcel 1Z999AA10123456784',
    'What is the status of 3f2b8c1e-9d4a-4b6e-8f1a-2c3d4e5f6a7b?',
  ]) {
    assert.ok(looksUserSpecific(text), text);
  }
});

test('generic questions, even with "my", are not', () => {
  for (const text of [
    'How do I reset my password?',
    'What is the refund policy?',
    'How do I get my money back?',
    'Can I change my plan later?',
    'What is the capital of France?',
    'Is 2 weeks enough to learn Go?',
  ]) {
    assert.equal(looksUserSpecific(text), false, text);
  }
});

test('only single-turn, tool-free, text-only, not-too-hot requests are eligible by default', () => {
  assert.equal(semanticIneligibility(view({}), policy), undefined);
  assert.equal(semanticIneligibility(view({ userTurns: 2, priorTurns: 1 }), policy), 'multi_turn');
  assert.equal(semanticIneligibility(view({ hasTools: true }), policy), 'tools');
  assert.equal(semanticIneligibility(view({ hasMedia: true }), policy), 'media');
  assert.equal(semanticIneligibility(view({ temperature: 1.2 }), policy), 'temperature');
  assert.equal(semanticIneligibility(view({ temperature: 0.2 }), policy), undefined);
  assert.equal(semanticIneligibility(view({ prompt: 'email me at a@b.io' }), policy), 'user_specific');
  assert.equal(semanticIneligibility(view({ prompt: '   ' }), policy), 'empty_prompt');
});

test('a policy can allow what the default refuses', () => {
  const open = { ...policy, allowMultiTurn: true, allowTools: true, allowUserSpecific: true, maxTemperature: 2 };
  assert.equal(semanticIneligibility(view({ userTurns: 3, priorTurns: 2, hasTools: true, temperature: 1.5, prompt: 'email me at a@b.io' }), open), undefined);
});

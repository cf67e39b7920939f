import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidKeyRequestError, keyFields, parseUsd } from './key-request.ts';
import { issueKey, modelAllowed } from './virtual-key.ts';

test('dollar amounts are parsed exactly into picodollars', () => {
  assert.equal(parseUsd('25', 'x'), 25_000_000_000_000n);
  assert.equal(parseUsd('0.1', 'x'), 100_000_000_000n);
  assert.equal(parseUsd(0.3, 'x'), 300_000_000_000n);
  assert.equal(parseUsd('0.000000000001', 'x'), 1n);
  assert.throws(() => parseUsd('-1', 'x'), InvalidKeyRequestError);
  assert.throws(() => parseUsd('1e3', 'x'), InvalidKeyRequestError);
});

test('key requests are validated', () => {
  assert.deepEqual(keyFields({ name: 'a', models: ['gpt-4o'], requestsPerMinute: 5, monthlyBudgetUsd: '10' }), {
    name: 'a',
    models: ['gpt-4o'],
    limits: { requestsPerMinute: 5, monthlyBudget: 10_000_000_000_000n },
  });
  assert.throws(() => keyFields({}), /name is required/);
  assert.throws(() => keyFields({ name: 'a', requestsPerMinute: 0 }), /positive integer/);
  assert.throws(() => keyFields({ name: 'a', models: [] }), /models/);
  assert.throws(() => keyFields({ name: 'a', budget: 1 }), /unknown field budget/);
});

test('allowed models: exact ids and prefixes', () => {
  const { key } = issueKey({ name: 'a', models: ['gpt-4o-mini', 'claude-*'], limits: {} });
  assert.equal(modelAllowed(key, 'gpt-4o-mini'), true);
  assert.equal(modelAllowed(key, 'gpt-4o'), false);
  assert.equal(modelAllowed(key, 'claude-sonnet-4-5'), true);
  assert.equal(modelAllowed(key, undefined), false);
  assert.equal(modelAllowed(issueKey({ name: 'b', limits: {} }).key, 'anything'), true);
});

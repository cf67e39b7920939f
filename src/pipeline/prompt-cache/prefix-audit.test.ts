import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyValue, findDivergence, lostPerDay, PrefixAudit } from './prefix-audit.ts';

const RULES = Array.from({ length: 40 }, (_, index) => `Rule ${index}: route billing questions to the billing queue and cite the policy.`).join('\n');
const prompt = (head: string) => `${head}\n\n${RULES}`;

test('the value at the divergence point is classified', () => {
  const cases: Array<[string, string, string]> = [
    ['Current time: 2026-08-21T10:15:03Z', 'Current time: 2026-08-21T10:15:09Z', 'timestamp'],
    ['Now: 10:15', 'Now: 10:16', 'timestamp'],
    ['Today is 2026-08-21.', 'Today is 2026-08-22.', 'date'],
    ['Request 0b7e9a8c-1f2d-4c3b-9a8e-7d6c5b4a3f21', 'Request 4c3b9a8e-7d6c-4b4a-8f21-0b7e9a8c1f2d', 'uuid'],
    ['trace: req_8f2KdQ91xZ', 'trace: req_Zq81KdQ2fX', 'request_id'],
    ['Contact ann.lee@example.com for help.', 'Contact bob.ray@example.org for help.', 'email'],
    ['User name: Alice', 'User name: Bartholomew', 'user'],
    ['Open tickets: 12', 'Open tickets: 47', 'number'],
  ];
  for (const [previous, current, kind] of cases) {
    const found = findDivergence(prompt(previous), prompt(current));
    assert.equal(found?.kind, kind, `${current}`);
  }
  assert.equal(classifyValue('Alice', 'Hello '), 'user');
});

test('examples are redacted: no email, name or digits of the value', () => {
  const email = findDivergence(prompt('Contact ann.lee@example.com now'), prompt('Contact bob.ray@example.org now'));
  assert.ok(email && !email.example.includes('bob') && !email.example.includes('example.org'), email?.example);
  const user = findDivergence(prompt('Customer: Alice Smith'), prompt('Customer: Bartholomew Smith'));
  assert.ok(user && !user.example.includes('Bartholomew'), user?.example);
  const time = findDivergence(prompt('Current time: 2026-08-21T10:15:03Z'), prompt('Current time: 2026-08-21T10:15:09Z'));
  assert.ok(time?.example.includes('<timestamp: dddd-dd-ddTdd:dd:ddZ>'), time?.example);
});

test('a different prompt (no resynchronization) or a change at the very end is not an instability', () => {
  assert.equal(findDivergence(prompt('A'), `Something else entirely\n${'x'.repeat(3000)}`), undefined);
  assert.equal(findDivergence(`${RULES}\nAsked at 10:15`, `${RULES}\nAsked at 10:16`), undefined);
  assert.equal(findDivergence(prompt('same'), prompt('same')), undefined);
});

test('the audit counts unstable calls, tokens lost and dollars per day', () => {
  const audit = new PrefixAudit();
  const hour = 3_600_000;
  for (let call = 0; call < 10; call += 1) {
    audit.observe({
      feature: 'triage',
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      stableText: prompt(`Current time: 2026-08-21T10:15:0${call}Z`),
      stableTokens: 3000,
      minimumTokens: 1024,
      readSavingPerToken: 2_700_000n,
      now: call * 6 * 60_000,
    });
  }
  const [state] = audit.snapshot().features;
  assert.equal(state?.comparisons, 9);
  assert.equal(state?.unstable, 9);
  assert.equal(state?.patterns.timestamp?.count, 9);
  // The timestamp is at the top: nothing before it caches, so all 3000 tokens are lost each call.
  assert.equal(state?.lostTokens, 9 * 3000);
  // 9 calls in under an hour, scaled to a day: 9 * 3000 tokens * 2.7 uUSD, times 24.
  assert.ok(state && lostPerDay(state, 54 * 60_000) === 9n * 3000n * 2_700_000n * 24n);
  assert.ok(state && state.lastSeen < hour);
});

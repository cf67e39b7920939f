import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CircuitBreaker, CircuitBreakers } from './circuit-breaker.ts';

const CONFIG = { failureThreshold: 3, failureRate: 0.5, windowMs: 10_000, cooldownMs: 5_000 };

function breakerAt() {
  const clock = { now: 0 };
  return { clock, breaker: new CircuitBreaker(CONFIG, () => clock.now) };
}

test('opens after enough failures at a high enough rate inside the window', () => {
  const { breaker } = breakerAt();
  breaker.record(true, false);
  breaker.record(true, false);
  assert.equal(breaker.state, 'closed', 'two failures are under the threshold');
  breaker.record(true, false);
  assert.equal(breaker.state, 'open');
  const refused = breaker.admit();
  assert.equal(refused.allowed, false);
  assert.equal(!refused.allowed && refused.retryInMs, 5_000);
});

test('successes keep the rate under the bar, and old failures leave the window', () => {
  const { clock, breaker } = breakerAt();
  for (let index = 0; index < 4; index++) breaker.record(false, false);
  for (let index = 0; index < 3; index++) breaker.record(true, false);
  assert.equal(breaker.state, 'closed', '3 failures of 7 calls is under 50%');
  clock.now = 20_000;
  breaker.record(true, false);
  breaker.record(true, false);
  assert.equal(breaker.state, 'closed', 'the earlier failures have left the window');
  breaker.record(true, false);
  assert.equal(breaker.state, 'open');
});

test('after the cooldown one probe goes through; its success closes the breaker, its failure reopens it', () => {
  const { clock, breaker } = breakerAt();
  for (let index = 0; index < 3; index++) breaker.record(true, false);
  clock.now = 4_999;
  assert.equal(breaker.admit().allowed, false);
  clock.now = 5_000;
  assert.equal(breaker.state, 'half-open');
  const probe = breaker.admit();
  assert.deepEqual(probe, { allowed: true, probe: true });
  assert.equal(breaker.admit().allowed, false, 'only one probe at a time');
  breaker.record(true, true);
  assert.equal(breaker.state, 'open', 'a failed probe reopens');
  assert.equal(breaker.admit().allowed, false);

  clock.now = 10_000;
  assert.deepEqual(breaker.admit(), { allowed: true, probe: true });
  breaker.record(false, true);
  assert.equal(breaker.state, 'closed');
  assert.deepEqual(breaker.admit(), { allowed: true, probe: false });
});

test('a probe released without an outcome lets the next call probe', () => {
  const { clock, breaker } = breakerAt();
  for (let index = 0; index < 3; index++) breaker.record(true, false);
  clock.now = 5_000;
  assert.equal(breaker.admit().allowed, true);
  breaker.release(true);
  assert.deepEqual(breaker.admit(), { allowed: true, probe: true });
});

test('breakers are per provider and model by default, per provider with scope upstream, absent when disabled', () => {
  const base = { enabled: true, scope: 'model' as const, ...CONFIG };
  const perModel = new CircuitBreakers(base, () => 0);
  assert.notEqual(perModel.key('anthropic', 'claude-a'), perModel.key('anthropic', 'claude-b'));
  const perUpstream = new CircuitBreakers({ ...base, scope: 'upstream' }, () => 0);
  assert.equal(perUpstream.key('anthropic', 'claude-a'), perUpstream.key('anthropic', 'claude-b'));
  assert.equal(perUpstream.get('anthropic'), perUpstream.get('anthropic'));
  assert.equal(new CircuitBreakers({ ...base, enabled: false }, () => 0).get('anthropic'), undefined);
});

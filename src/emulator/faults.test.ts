import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createManualClock } from './clock.ts';
import { FaultInjector } from './faults.ts';
import { startEmulator } from './index.ts';

test('a rule fails matching requests until its count or duration is spent', () => {
  const clock = createManualClock(1_000);
  const faults = new FaultInjector(clock);
  assert.equal(typeof faults.add({ status: 529, provider: 'anthropic', count: 2 }), 'object');
  assert.equal(faults.pick('openai', 'gpt-4o'), undefined, 'another provider is untouched');
  assert.equal(faults.pick('anthropic', 'claude-sonnet-4-5')?.kind, 'overloaded');
  assert.equal(faults.pick('anthropic', 'claude-sonnet-4-5')?.kind, 'overloaded');
  assert.equal(faults.pick('anthropic', 'claude-sonnet-4-5'), undefined, 'the count is spent');

  faults.add({ status: 429, model: 'mini', durationMs: 500, retryAfterMs: 1500 });
  const error = faults.pick('openai', 'gpt-4o-mini');
  assert.equal(error?.kind, 'rate_limited');
  assert.equal(error?.retryAfterMs, 1500);
  assert.equal(faults.pick('openai', 'gpt-4o'), undefined, 'the model filter is a substring');
  clock.advance(500);
  assert.equal(faults.pick('openai', 'gpt-4o-mini'), undefined, 'the duration is over');
  assert.equal(faults.injected, 3);
});

test('a rate below 1 fails only the draws under it; bad rules are refused with a reason', () => {
  const draws = [0.1, 0.9];
  const faults = new FaultInjector(createManualClock(), () => draws.shift() ?? 0);
  faults.add({ status: 500, rate: 0.5 });
  assert.equal(faults.pick('bedrock', 'x')?.kind, 'server');
  assert.equal(faults.pick('bedrock', 'x'), undefined);
  assert.match(String(faults.add({ status: 418 })), /status must be one of/);
  assert.match(String(faults.add({ status: 429, rate: 2 })), /rate/);
  assert.match(String(faults.add({ status: 429, provider: 'azure' })), /provider/);
});

test('the control endpoint switches a storm on and off; 429s carry retry-after-ms and retry-after', async () => {
  const emulator = await startEmulator();
  try {
    const control = await fetch(`${emulator.url}/emulator/faults`, { method: 'POST', body: JSON.stringify({ status: 429, provider: 'openai', retryAfterMs: 1200 }) });
    assert.equal(control.status, 200);
    const call = () =>
      fetch(`${emulator.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }) });
    const refused = await call();
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after-ms'), '1200');
    assert.equal(refused.headers.get('retry-after'), '2');
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'rate_limit_exceeded');
    const anthropic = await fetch(`${emulator.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(anthropic.status, 200, 'the rule names OpenAI only');
    await anthropic.arrayBuffer();
    assert.equal((await fetch(`${emulator.url}/emulator/faults`, { method: 'DELETE' })).status, 200);
    const ok = await call();
    assert.equal(ok.status, 200);
    await ok.arrayBuffer();
    const bad = await fetch(`${emulator.url}/emulator/faults`, { method: 'POST', body: '{"status": 404}' });
    assert.equal(bad.status, 400);
    const stats = (await (await fetch(`${emulator.url}/emulator/stats`)).json()) as { injectedFaults: number };
    assert.equal(stats.injectedFaults, 1);
  } finally {
    await emulator.close();
  }
});

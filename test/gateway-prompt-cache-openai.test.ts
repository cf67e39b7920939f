import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { parseConfig, resolveUpstreams } from '../src/config/load-config.ts';
import type { UsageEvent } from '../src/core/usage-event.ts';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.ts';
import { startGateway, type RunningGateway } from '../src/server/start-gateway.ts';

// OpenAI gpt-5.6 explicit breakpoints end to end: the official SDK, the gateway's planner in auto,
// the emulator's explicit-mode cache on its controllable clock. A feature with the planner off sends
// the very same calls, so the implicit-caching counterfactual is also observed, not only modelled.
let emulator: RunningEmulator;
let gateway: RunningGateway;
let directory: string;
let openai: OpenAI;

before(async () => {
  emulator = await startEmulator({ port: 0 });
  directory = mkdtempSync(join(tmpdir(), 'costgate-prompt-cache-openai-e2e-'));
  const environment = { OPENAI_BASE_URL: `${emulator.url}/v1`, OPENAI_API_KEY: 'sk-gateway' };
  const config = parseConfig({ promptCache: { default: { mode: 'auto' }, features: { 'qa-off': { mode: 'off' } } } }, environment, 'test');
  gateway = await startGateway({
    loaded: { config, upstreams: resolveUpstreams(config, environment), source: 'test' },
    port: 0,
    ledgerPath: join(directory, 'ledger.duckdb'),
    clock: () => emulator.clock.now(),
  });
  openai = new OpenAI({ apiKey: 'client', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
});

after(async () => {
  await gateway.close();
  await emulator.close();
  rmSync(directory, { recursive: true, force: true });
});

const SYSTEM = Array.from({ length: 160 }, (_, index) => `Rule ${index}: quote the contract clause and name the party it binds.`).join('\n');
const question = (index: number) => `Case ${index}: ${Array.from({ length: 300 }, (_, word) => `fact${index}x${word}`).join(' ')}`;

async function row(requestId: string): Promise<UsageEvent> {
  await gateway.recorder.flush();
  const [found] = await gateway.ledger.get([requestId]);
  assert.ok(found, `ledger row ${requestId}`);
  return found;
}

function lever(event: UsageEvent) {
  return event.levers?.find((effect) => effect.lever === 'prompt_cache');
}

async function ask(feature: string, index: number, model = 'gpt-5.6-sol') {
  const { data, response } = await openai.chat.completions
    .create(
      {
        model,
        messages: [
          { role: 'system', content: SYSTEM },
          { role: 'user', content: question(index) },
        ],
      },
      { headers: { 'x-costgate-feature': feature } },
    )
    .withResponse();
  return { usage: data.usage, event: await row(response.headers.get('x-costgate-request-id') ?? '') };
}

test('one-shot questions on gpt-5.6-sol: implicit until the evidence is in, then explicit mode stops paying for the question, and the row books the difference', async () => {
  const auto: Array<Awaited<ReturnType<typeof ask>>> = [];
  const off: Array<Awaited<ReturnType<typeof ask>>> = [];
  for (let index = 0; index < 14; index += 1) {
    auto.push(await ask('qa', index));
    off.push(await ask('qa-off', index));
    emulator.clock.advance(2 * 60_000);
  }
  // No evidence yet about whether the questions come back: the provider's default is kept.
  assert.equal(lever(auto[0]?.event as UsageEvent)?.detail?.cacheMode, 'implicit');
  assert.equal(auto[0]?.event.cost, off[0]?.event.cost);
  const last = auto.at(-1);
  const lastOff = off.at(-1);
  assert.ok(last && lastOff);
  // Implicit caching (planner off) writes the new question on every call, at 1.25x.
  assert.ok((lastOff.usage?.prompt_tokens_details?.cache_write_tokens ?? 0) > 1000);
  // Explicit mode reads the system prompt at its exact end and writes nothing more.
  const read = last.usage?.prompt_tokens_details?.cached_tokens ?? 0;
  assert.ok(read > 1024 && (read - 1024) % 128 !== 0, `read ${read}: an exact breakpoint, not a 128-token step`);
  assert.equal(last.usage?.prompt_tokens_details?.cache_write_tokens, 0);
  assert.equal(lever(last.event)?.detail?.cacheMode, 'explicit');
  assert.equal(lever(last.event)?.estimated, true);
  assert.equal(last.event.baselineCost, (last.event.cost ?? 0n) + (lever(last.event)?.saving ?? 0n));
  assert.ok((last.event.cost ?? 0n) < (lastOff.event.cost ?? 0n));

  // The modelled counterfactual (implicit caching) against the observed one, call by call: within 2%
  // of the call's cost (the planner's token counts are scaled to the provider's).
  auto.forEach((mine, index) => {
    const theirs = off[index];
    assert.ok(theirs);
    const observed = (theirs.event.cost ?? 0n) - (mine.event.cost ?? 0n);
    const modelled = lever(mine.event)?.saving ?? 0n;
    const tolerance = (theirs.event.cost ?? 0n) / 50n;
    assert.ok(modelled - observed <= tolerance && observed - modelled <= tolerance, `call ${index}: modelled ${modelled} vs observed ${observed}`);
  });
  const total = (calls: typeof auto) => calls.reduce((sum, call) => sum + (call.event.cost ?? 0n), 0n);
  assert.ok(total(auto) < total(off), `auto ${total(auto)} vs off ${total(off)}`);
});

test('a conversation on gpt-5.6-terra: each turn reads the previous one through a breakpoint on its exact end', async () => {
  const turns: Array<{ prompt: number; read: number; written: number }> = [];
  for (let session = 0; session < 5; session += 1) {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'system', content: `${SYSTEM}\nchat` }];
    for (let turn = 0; turn < 4; turn += 1) {
      messages.push({ role: 'user', content: question(100 + session * 10 + turn) });
      const data = await openai.chat.completions.create({ model: 'gpt-5.6-terra', messages }, { headers: { 'x-costgate-feature': 'chat' } });
      messages.push({ role: 'assistant', content: data.choices[0]?.message.content ?? '' });
      const details = data.usage?.prompt_tokens_details;
      if (session === 4) turns.push({ prompt: data.usage?.prompt_tokens ?? 0, read: details?.cached_tokens ?? 0, written: details?.cache_write_tokens ?? 0 });
      emulator.clock.advance(30_000);
    }
  }
  turns.forEach((turn, index) => {
    const previous = turns[index - 1];
    // The whole previous prompt is read (to the end of its last part), and only the new turn is written.
    if (previous) assert.ok(turn.read >= previous.prompt - 4 && turn.read <= previous.prompt, `turn ${index}: read ${turn.read} of a previous ${previous.prompt}`);
    assert.ok(turn.prompt - turn.read - turn.written <= 4, `turn ${index}: ${JSON.stringify(turn)}`);
  });
});

test('models before gpt-5.6 get no explicit caching fields (the provider would refuse them)', async () => {
  for (let index = 0; index < 4; index += 1) {
    const { event, usage } = await ask('legacy', index, 'gpt-4.1');
    assert.equal(event.status, 200);
    assert.equal(usage?.prompt_tokens_details?.cache_write_tokens, undefined);
    emulator.clock.advance(20_000);
  }
});

test("Responses: a client's explicit mode and own marker are kept, and its prefix is read", async () => {
  const input: OpenAI.Responses.ResponseInput = [
    { role: 'user', content: [{ type: 'input_text', text: `${SYSTEM}\nresponses`, prompt_cache_breakpoint: { mode: 'explicit' } }, { type: 'input_text', text: 'and the question' }] },
  ];
  const first = await openai.responses.create({ model: 'gpt-5.6-luna', input, prompt_cache_options: { mode: 'explicit' } }, { headers: { 'x-costgate-feature': 'client-marked' } });
  emulator.clock.advance(10_000);
  const second = await openai.responses.create({ model: 'gpt-5.6-luna', input, prompt_cache_options: { mode: 'explicit' } }, { headers: { 'x-costgate-feature': 'client-marked' } });
  assert.deepEqual(second.prompt_cache_options, { mode: 'explicit', ttl: '30m' });
  assert.ok((first.usage?.input_tokens_details.cache_write_tokens ?? 0) > 1024);
  assert.equal(second.usage?.input_tokens_details.cached_tokens, first.usage?.input_tokens_details.cache_write_tokens);
});

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openDuckDbLedger } from '../ledger/duckdb/duckdb-ledger.ts';
import { usageEvent } from '../ledger/testing/usage-event-fixtures.ts';
import { auditOutputCommand } from './audit-output.ts';

const folder = mkdtempSync(join(tmpdir(), 'costgate-audit-output-'));
after(() => rmSync(folder, { recursive: true, force: true }));

async function capture(work: () => Promise<void>): Promise<string> {
  const chunks: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    await work();
  } finally {
    process.stdout.write = original;
  }
  return chunks.join('');
}

test('audit output: percentiles, flags, and the dollars a learned cap and an effort clamp would save', async () => {
  const path = join(folder, 'ledger.duckdb');
  const ledger = await openDuckDbLedger({ path });
  const chat = (index: number) =>
    usageEvent({
      provider: 'openai',
      requestedModel: 'gpt-4o-mini',
      servedModel: 'gpt-4o-mini',
      attribution: { feature: 'chat', tags: {} },
      usage: { input: { total: 100 }, output: { total: index === 0 ? 10_000 : 50 + (index % 50) } },
      stopReason: index === 0 ? 'length' : 'stop',
    });
  const classify = usageEvent({
    provider: 'openai',
    requestedModel: 'o4-mini',
    servedModel: 'o4-mini',
    attribution: { feature: 'classify', tags: {} },
    usage: { input: { total: 2000 }, output: { total: 1_000_005, text: 5, reasoning: 1_000_000 } },
    maxTokensRequested: 100_000,
  });
  await ledger.append([...Array.from({ length: 200 }, (_, index) => chat(index)), classify]);
  await ledger.close();

  const table = await capture(() => auditOutputCommand(['--ledger', path]));
  assert.match(table, /chat\s+gpt-4o-mini\s+200/);
  assert.match(table, /chat \/ gpt-4o-mini: output \d+% of input; 200 calls without max_tokens \(model maximum\)/);
  assert.match(table, /classify \/ o4-mini: .*max_tokens at the model maximum/);

  const [reasoningHeavy, runaway] = JSON.parse(await capture(() => auditOutputCommand(['--ledger', path, '--format', 'json', '--floor', '1']))) as Array<Record<string, any>>;
  assert.equal(reasoningHeavy?.feature, 'classify', 'most output first');
  assert.equal(runaway?.feature, 'chat');
  // o4-mini output is $4.40/MTok: a million reasoning tokens price at $4.40.
  assert.equal(reasoningHeavy?.effortSaving, '4.4');
  const runawayCut = 10_000 - runaway?.learnedCap;
  assert.ok(runawayCut > 9800);
  // gpt-4o-mini output is $0.60/MTok.
  assert.equal(Number(runaway?.capSaving), (runawayCut * 0.6) / 1e6);
  assert.equal(runaway?.truncationRate, 1 / 200);

  await assert.rejects(auditOutputCommand(['--ledger', path, '--percentile', '2']), /--percentile/);
});

test('audit output: runaway loops are told apart from truncated answers and kept out of the learned cap', async () => {
  const path = join(folder, 'loops.duckdb');
  const ledger = await openDuckDbLedger({ path });
  const events = Array.from({ length: 100 }, (_, index) => {
    const loop = index % 25 === 0;
    return usageEvent({
      provider: 'openai',
      requestedModel: 'gpt-4o-mini',
      servedModel: 'gpt-4o-mini',
      attribution: { feature: 'chat', tags: {} },
      usage: { input: { total: 1000 }, output: { total: loop ? 4096 : 100 + index } },
      stopReason: loop ? 'length' : 'stop',
      maxTokensRequested: 4096,
      ...(loop ? { levers: [{ lever: 'output_policy', saving: 0n, estimated: true, detail: { policy: 'default', truncated: true, runaway: { kind: 'repetition', period: 40 } } }] } : {}),
    });
  });
  await ledger.append(events);
  await ledger.close();
  const [row] = JSON.parse(await capture(() => auditOutputCommand(['--ledger', path, '--format', 'json', '--floor', '1']))) as Array<Record<string, any>>;
  assert.equal(row?.truncationRate, 0.04);
  assert.equal(row?.runawayRate, 0.04);
  // Four loops in a hundred calls would put p99 (and the cap) at 4096; answers alone end at 199.
  assert.equal(row?.visible.max, 199);
  assert.ok(row?.learnedCap < 400, `cap ${row?.learnedCap}`);
  assert.equal(row?.wouldTruncate, 0);
  assert.ok(!row?.flags.some((flag: string) => flag.startsWith('truncating')), 'loops are not truncated answers');
  assert.ok(row?.flags.includes('4 runaway loops stopped by a cap'));
  const table = await capture(() => auditOutputCommand(['--ledger', path]));
  assert.match(table, /of which loops/);
  assert.match(table, /chat \/ gpt-4o-mini: .*4 runaway loops stopped by a cap/);
});

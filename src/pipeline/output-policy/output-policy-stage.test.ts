import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { outputPolicyConfigSchema } from '../../config/output-policy-config.ts';
import type { CallContext } from '../context.ts';
import { chatContext, pricer, runPipeline } from '../semantic-cache/testing/stage-harness.ts';
import type { Stage } from '../stage.ts';
import { createOutputPolicyStage } from './output-policy-stage.ts';
import type { OutputStatisticsSnapshot } from './output-statistics.ts';

const folder = mkdtempSync(join(tmpdir(), 'costgate-output-policy-'));
after(() => rmSync(folder, { recursive: true, force: true }));

/** An upstream that writes `wanted` answer tokens (one word each), or a loop, stopping at the request's max_tokens. */
function cappedUpstream(): Stage & { next: { wanted: number; loop: boolean }; sentCaps: Array<number | undefined> } {
  const stage = {
    name: 'capped-upstream',
    next: { wanted: 10, loop: false },
    sentCaps: [] as Array<number | undefined>,
    async run(context: CallContext) {
      const cap = context.call.body?.['max_tokens'] as number | undefined;
      stage.sentCaps.push(cap);
      const visible = Math.min(stage.next.wanted, cap ?? Infinity);
      const words = Array.from({ length: visible }, (_, index) => (stage.next.loop ? ['Let', 'me', 'check', 'the', 'total', 'again.'][index % 6] : `word${index}`));
      const truncated = visible < stage.next.wanted;
      const body = {
        id: 'chatcmpl-1',
        object: 'chat.completion',
        model: 'gpt-4o-mini',
        choices: [{ index: 0, message: { role: 'assistant', content: words.join(' ') }, finish_reason: truncated ? 'length' : 'stop' }],
        usage: { prompt_tokens: 100, completion_tokens: visible, total_tokens: 100 + visible },
      };
      context.result = { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) };
      context.facts = context.adapter.readResponse(context.call, 200, {}, context.result.body);
    },
  };
  return stage;
}

test('a holdout call keeps a far backstop: it measures uncapped lengths, yet a loop stops there, not at the model maximum', async () => {
  let draw = 1;
  const saved: OutputStatisticsSnapshot[] = [];
  const stage = createOutputPolicyStage({
    config: outputPolicyConfigSchema.parse({ enabled: true, holdout: 0.02, default: { maxTokens: 'learned', minSamples: 20, floor: 16 } }),
    pricer,
    dataDir: folder,
    store: { load: () => undefined, save: async (snapshot) => void saved.push(snapshot) },
    random: () => draw,
    log: () => {},
  });
  const upstream = cappedUpstream();
  const pipeline = runPipeline([stage, upstream]);
  const ask = (wanted: number, loop = false) => {
    upstream.next = { wanted, loop };
    return pipeline(chatContext({ prompt: 'question', feature: 'summary' }));
  };
  for (let index = 0; index < 20; index += 1) await ask(40 + index);
  const capped = await ask(45);
  const cap = upstream.sentCaps.at(-1) ?? 0;
  assert.ok(cap > 59 && cap < 200, `learned cap ${cap}`);
  assert.equal(capped.outputCap?.sent, cap);

  draw = 0; // every call is a holdout from here
  const ordinary = await ask(150);
  assert.equal(upstream.sentCaps.at(-1), cap * 8, 'eight times the learned cap');
  assert.equal(ordinary.levers.length, 0, 'an answer under the backstop is untouched and unrecorded');
  assert.equal(ordinary.outputCap?.sent, cap * 8);

  const loop = await ask(100_000, true);
  const detail = loop.levers[0]?.detail as Record<string, any>;
  // The 150-token holdout answer joined the learned lengths, so the cap (and its backstop) grew a little.
  const backstop = upstream.sentCaps.at(-1) ?? 0;
  assert.ok(backstop >= cap * 8 && backstop < 100_000);
  assert.deepEqual(detail['backstop'], { field: 'max_tokens', original: null, applied: backstop });
  assert.equal(detail['runaway']?.kind, 'repetition');
  // Without the backstop the loop runs to gpt-4o-mini's 16,384-token maximum.
  assert.equal(detail['baselineOutputTokens'], 16_384);
  assert.ok((loop.levers[0]?.saving ?? 0n) > 0n);
  await stage.close();
  // The holdout answer (150) was measured as an uncapped length.
  const features = saved.at(-1)?.features['summary'];
  assert.ok(features && Object.keys(features.unshapedVisible.buckets).length > 0);
});

test('holdout calls get the feature schema too: the client parses JSON whichever calls are held out', async () => {
  const schema = { name: 'fields', schema: { type: 'object', properties: { vendor: { type: 'string' } }, required: ['vendor'] } };
  const stage = createOutputPolicyStage({
    config: outputPolicyConfigSchema.parse({ enabled: true, holdout: 0.5, features: { extract: { jsonSchema: schema } } }),
    pricer,
    dataDir: folder,
    store: { load: () => undefined, save: async () => {} },
    random: () => 0,
    log: () => {},
  });
  const formats: unknown[] = [];
  const upstream = cappedUpstream();
  const watch: Stage = {
    name: 'watch-format',
    async run(context, next) {
      formats.push(structuredClone(context.call.body?.['response_format']));
      await next();
    },
  };
  const result = await runPipeline([stage, watch, upstream])(chatContext({ prompt: 'invoice text', feature: 'extract' }));
  assert.equal((formats[0] as Record<string, any> | undefined)?.['type'], 'json_schema');
  assert.equal((formats[0] as Record<string, any>)['json_schema']['name'], 'fields');
  assert.equal((result.levers[0]?.detail as Record<string, any>)['jsonSchema']?.via, 'response_format.json_schema');
  await stage.close();
});

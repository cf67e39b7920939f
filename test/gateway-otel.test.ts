import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { UsageEvent } from '../src/core/usage-event.ts';
import { ledgerRows, startStack } from './support/stack.ts';

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values: OtlpValue[] };
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}

function plain(value: OtlpValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.arrayValue) return value.arrayValue.values.map(plain);
  return undefined;
}

function attributes(list: OtlpAttribute[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((attribute) => [attribute.key, plain(attribute.value)]));
}

/** A minimal OTLP/HTTP collector: keeps every JSON body posted to /v1/traces and /v1/metrics. */
async function startReceiver(): Promise<{ url: string; bodies: Map<string, any[]>; contentTypes: Set<string>; server: Server }> {
  const bodies = new Map<string, any[]>([
    ['/v1/traces', []],
    ['/v1/metrics', []],
  ]);
  const contentTypes = new Set<string>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let body = Buffer.concat(chunks);
      if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      contentTypes.add(String(request.headers['content-type']));
      bodies.get(request.url ?? '')?.push(JSON.parse(body.toString('utf8')));
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies, contentTypes, server };
}

test('calls through the gateway arrive at an OTLP collector as GenAI spans and metrics', async () => {
  const receiver = await startReceiver();
  const stack = await startStack({ analytics: { otel: { endpoint: receiver.url, serviceName: 'costgate-test' } } });
  let openaiId = '';
  let anthropicId = '';
  let rows: Array<UsageEvent | undefined> = [];
  try {
    const openai = new OpenAI({ apiKey: 'sk-client', baseURL: `${stack.url}/v1`, maxRetries: 0 });
    const completion = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }, { headers: { 'x-costgate-feature': 'search' } })
      .withResponse();
    openaiId = completion.response.headers.get('x-costgate-request-id') ?? '';
    const anthropic = new Anthropic({ apiKey: 'sk-ant-client', baseURL: stack.url, maxRetries: 0 });
    const message = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    anthropicId = message.response.headers.get('x-costgate-request-id') ?? '';
    await assert.rejects(openai.chat.completions.create({ model: 'gpt-4o-mini-emu-500', messages: [{ role: 'user', content: 'boom' }] }));
    rows = await ledgerRows(stack, [openaiId, anthropicId]);
  } finally {
    // Closing the gateway flushes the span processor and the metric reader.
    await stack.close();
    receiver.server.close();
  }
  assert.deepEqual([...receiver.contentTypes], ['application/json']);

  const spans = (receiver.bodies.get('/v1/traces') ?? []).flatMap((body) =>
    body.resourceSpans.flatMap((resourceSpans: any) => {
      const resource = attributes(resourceSpans.resource?.attributes);
      return resourceSpans.scopeSpans.flatMap((scope: any) => scope.spans.map((span: any) => ({ ...span, resource, attributes: attributes(span.attributes) })));
    }),
  );
  assert.equal(spans.length, 3);
  const openaiSpan = spans.find((span) => span.attributes['costgate.request_id'] === openaiId);
  assert.ok(openaiSpan, 'span for the OpenAI call');
  assert.equal(openaiSpan.resource['service.name'], 'costgate-test');
  assert.equal(openaiSpan.name, 'chat gpt-4o-mini');
  assert.equal(openaiSpan.kind, 3, 'SPAN_KIND_CLIENT');
  assert.equal(openaiSpan.attributes['gen_ai.operation.name'], 'chat');
  assert.equal(openaiSpan.attributes['gen_ai.provider.name'], 'openai');
  assert.equal(openaiSpan.attributes['gen_ai.system'], 'openai');
  assert.equal(openaiSpan.attributes['gen_ai.request.model'], 'gpt-4o-mini');
  assert.match(String(openaiSpan.attributes['gen_ai.response.model']), /^gpt-4o-mini/);
  assert.equal(openaiSpan.attributes['costgate.feature'], 'search');

  // The span's numbers are the ledger's numbers.
  const openaiRow = { inputTokens: rows[0]?.usage.input.total, outputTokens: rows[0]?.usage.output.total };
  const anthropicRow = { inputTokens: rows[1]?.usage.input.total, outputTokens: rows[1]?.usage.output.total };
  assert.ok((openaiRow.inputTokens ?? 0) > 0 && (anthropicRow.outputTokens ?? 0) > 0);
  assert.equal(openaiSpan.attributes['gen_ai.usage.input_tokens'], openaiRow.inputTokens);
  assert.equal(openaiSpan.attributes['gen_ai.usage.output_tokens'], openaiRow.outputTokens);
  assert.match(String(openaiSpan.attributes['costgate.cost_usd']), /^\d+\.\d+$/);
  assert.ok(Number(openaiSpan.attributes['costgate.cost_usd']) > 0);
  assert.deepEqual(openaiSpan.attributes['gen_ai.response.finish_reasons'], ['stop']);
  assert.ok(Number(BigInt(openaiSpan.endTimeUnixNano) - BigInt(openaiSpan.startTimeUnixNano)) >= 0);

  const anthropicSpan = spans.find((span) => span.attributes['costgate.request_id'] === anthropicId);
  assert.ok(anthropicSpan, 'span for the Anthropic call');
  assert.equal(anthropicSpan.attributes['gen_ai.provider.name'], 'anthropic');
  assert.equal(anthropicSpan.attributes['gen_ai.usage.input_tokens'], anthropicRow.inputTokens);
  assert.equal(anthropicSpan.attributes['gen_ai.usage.cache_read.input_tokens'], 0);
  assert.equal(anthropicSpan.attributes['gen_ai.usage.cache_creation.input_tokens'], 0);

  const failed = spans.find((span) => span.attributes['http.response.status_code'] === 500);
  assert.ok(failed, 'span for the failed call');
  assert.equal(failed.status?.code, 2, 'STATUS_CODE_ERROR');
  assert.equal(typeof failed.attributes['error.type'], 'string');
  assert.equal(failed.attributes['gen_ai.usage.output_tokens'], undefined);

  const points = (name: string) =>
    (receiver.bodies.get('/v1/metrics') ?? []).flatMap((body) =>
      body.resourceMetrics.flatMap((resourceMetrics: any) =>
        resourceMetrics.scopeMetrics.flatMap((scope: any) =>
          scope.metrics
            .filter((metric: any) => metric.name === name)
            .flatMap((metric: any) => metric.histogram.dataPoints.map((point: any) => ({ unit: metric.unit, ...point, attributes: attributes(point.attributes) }))),
        ),
      ),
    );
  const tokens = points('gen_ai.client.token.usage');
  // Cumulative temporality: the last export holds the totals; take the largest count per series.
  const latest = (list: any[], match: (attributes: Record<string, unknown>) => boolean) =>
    list.filter((point) => match(point.attributes)).sort((a, b) => Number(b.count) - Number(a.count))[0];
  const openaiInput = latest(tokens, (a) => a['gen_ai.provider.name'] === 'openai' && a['gen_ai.token.type'] === 'input' && a['error.type'] === undefined);
  assert.ok(openaiInput, 'input token histogram for OpenAI');
  assert.equal(openaiInput.unit, '{token}');
  assert.equal(Number(openaiInput.count), 1);
  assert.equal(Number(openaiInput.sum), openaiRow.inputTokens);
  assert.equal(openaiInput.attributes['gen_ai.operation.name'], 'chat');
  assert.equal(openaiInput.attributes['gen_ai.request.model'], 'gpt-4o-mini');
  assert.equal(openaiInput.explicitBounds.length, 14);
  const anthropicOutput = latest(tokens, (a) => a['gen_ai.provider.name'] === 'anthropic' && a['gen_ai.token.type'] === 'output');
  assert.equal(Number(anthropicOutput?.sum), anthropicRow.outputTokens);

  const durations = points('gen_ai.client.operation.duration');
  assert.equal(durations[0]?.unit, 's');
  const failedDuration = latest(durations, (a) => typeof a['error.type'] === 'string');
  assert.equal(Number(failedDuration?.count), 1, 'failed calls are timed with error.type');
  const okDurations = durations.filter((point) => point.attributes['error.type'] === undefined);
  assert.ok(okDurations.length >= 2);
});

test('without an endpoint nothing is exported', async () => {
  const { startAnalyticsServices } = await import('../src/server/analytics-services.ts');
  const { parseConfig } = await import('../src/config/load-config.ts');
  const config = parseConfig({ analytics: { anomaly: { enabled: false } } }, {}, 'test');
  const services = startAnalyticsServices({ config, ledger: {} as never, pricer: {} as never, dataDir: '/nonexistent', adminKey: undefined, log: () => {}, environment: {} });
  assert.equal(services.otel, undefined);
  await services.close();
  const fromEnvironment = startAnalyticsServices({ config, ledger: {} as never, pricer: {} as never, dataDir: '/nonexistent', adminKey: undefined, log: () => {}, environment: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' } });
  assert.ok(fromEnvironment.otel, 'OTEL_EXPORTER_OTLP_ENDPOINT enables export');
  await fromEnvironment.otel.flush().catch(() => {});
  await fromEnvironment.close();
});

test("a call carrying a W3C traceparent is exported as a child span in the client's trace", async () => {
  const receiver = await startReceiver();
  const stack = await startStack({ analytics: { otel: { endpoint: receiver.url } } });
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const clientSpanId = '00f067aa0ba902b7';
  const ids: Record<string, string> = {};
  try {
    const openai = new OpenAI({ apiKey: 'sk-client', baseURL: `${stack.url}/v1`, maxRetries: 0 });
    const call = async (name: string, headers: Record<string, string>) => {
      const { response } = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: name }] }, { headers }).withResponse();
      ids[name] = response.headers.get('x-costgate-request-id') ?? '';
    };
    await call('child', { traceparent: `00-${traceId}-${clientSpanId}-01`, tracestate: 'vendor=value' });
    await call('root', {});
    await call('malformed', { traceparent: 'not-a-trace-context' });
    await call('unsampled', { traceparent: `00-${traceId}-${clientSpanId}-00` });
  } finally {
    await stack.close();
    receiver.server.close();
  }
  const spans: any[] = (receiver.bodies.get('/v1/traces') ?? []).flatMap((body) =>
    body.resourceSpans.flatMap((resourceSpans: any) => resourceSpans.scopeSpans.flatMap((scope: any) => scope.spans)),
  );
  const byCall = (name: string) => spans.find((span) => attributes(span.attributes)['costgate.request_id'] === ids[name]);

  const child = byCall('child');
  assert.ok(child, 'span for the call with a traceparent');
  assert.equal(child.traceId, traceId);
  assert.equal(child.parentSpanId, clientSpanId);
  assert.notEqual(child.spanId, clientSpanId);
  assert.equal(child.traceState, 'vendor=value');

  for (const name of ['root', 'malformed']) {
    const span = byCall(name);
    assert.ok(span, `span for the ${name} call`);
    assert.ok(!span.parentSpanId, `${name}: no parent`);
    assert.notEqual(span.traceId, traceId);
  }
  // The client decided not to sample this trace; the default parent-based sampler follows it.
  assert.equal(byCall('unsampled'), undefined);
  assert.equal(spans.length, 3);
});

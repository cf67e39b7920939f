import { defaultTextMapGetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, type Attributes, type Context, type Histogram } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { formatUsd } from '../../core/money.ts';
import type { ProviderId } from '../../core/provider-id.ts';
import type { UsageEvent } from '../../core/usage-event.ts';
import type { IncomingTraceContext } from '../../pipeline/record-usage/record-usage-stage.ts';

/**
 * OpenTelemetry export of finished calls, following the GenAI semantic conventions (semconv 1.37+:
 * `gen_ai.provider.name`, `gen_ai.usage.cache_read.input_tokens`, ...). Spans and metrics are built
 * from the usage event the gateway records once a call has ended, never inside the call: `observe`
 * only pushes onto a bounded queue that is drained on a later tick, and the SDK's batch span
 * processor and periodic metric reader send OTLP/HTTP in the background. A call that arrived with a
 * W3C `traceparent` is exported as a child span of it, so it appears inside the client's trace; the
 * SDK's default parent-based sampler then follows the client's sampled flag.
 */
export interface OtelExportOptions {
  /** OTLP/HTTP base URL, e.g. http://collector:4318 (signals go to /v1/traces and /v1/metrics). */
  endpoint: string;
  headers?: Record<string, string>;
  serviceName?: string;
  /** How often metrics are pushed. */
  metricIntervalMs?: number;
  /** Events held while the exporter catches up; beyond this, new ones are dropped (and counted in the log). */
  maxQueued?: number;
  log?: (line: string) => void;
}

/** Semconv well-known provider names; costgate's own ids differ only for Bedrock. */
const PROVIDER_NAME: Record<ProviderId, string> = { openai: 'openai', anthropic: 'anthropic', bedrock: 'aws.bedrock' };

/** Bucket advice from the GenAI metrics conventions. */
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

const propagator = new W3CTraceContextPropagator();

/** The client's span as the parent context; the root context when the header is absent or malformed. */
export function parentContext(trace: IncomingTraceContext | undefined): Context {
  if (trace === undefined) return ROOT_CONTEXT;
  return propagator.extract(ROOT_CONTEXT, trace, defaultTextMapGetter);
}

/** Maps a gateway route to `gen_ai.operation.name`. */
export function operationName(endpoint: string): string {
  if (endpoint.includes('embed')) return 'embeddings';
  if (endpoint === 'completions') return 'text_completion';
  return 'chat';
}

function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path}`;
}

/** Attributes shared by the span and both metrics (low-cardinality ones only go on metrics). */
function commonAttributes(event: UsageEvent): Attributes {
  const attributes: Attributes = {
    'gen_ai.operation.name': operationName(event.endpoint),
    'gen_ai.provider.name': PROVIDER_NAME[event.provider],
  };
  if (event.requestedModel !== undefined) attributes['gen_ai.request.model'] = event.requestedModel;
  if (event.servedModel !== undefined) attributes['gen_ai.response.model'] = event.servedModel;
  if (event.errorType !== undefined) attributes['error.type'] = event.errorType;
  return attributes;
}

/** The span's attributes: the GenAI conventions plus costgate's own (cost, attribution, levers). */
export function spanAttributes(event: UsageEvent): Attributes {
  const attributes: Attributes = {
    ...commonAttributes(event),
    // Deprecated in favour of gen_ai.provider.name, still read by many backends.
    'gen_ai.system': PROVIDER_NAME[event.provider],
    'costgate.request_id': event.requestId,
    'costgate.endpoint': event.endpoint,
    'costgate.stream': event.stream,
    'http.response.status_code': event.status,
  };
  const { input, output } = event.usage;
  const set = (name: string, value: string | number | boolean | undefined): void => {
    if (value !== undefined) attributes[name] = value;
  };
  set('gen_ai.usage.input_tokens', input.total);
  set('gen_ai.usage.output_tokens', output.total);
  set('gen_ai.usage.cache_read.input_tokens', input.cacheRead);
  const cacheWrite = input.cacheWrite5m === undefined && input.cacheWrite1h === undefined ? undefined : (input.cacheWrite5m ?? 0) + (input.cacheWrite1h ?? 0);
  set('gen_ai.usage.cache_creation.input_tokens', cacheWrite);
  set('gen_ai.usage.reasoning.output_tokens', output.reasoning);
  if (event.stopReason !== undefined) attributes['gen_ai.response.finish_reasons'] = [event.stopReason];
  if (event.maxTokensSent !== undefined) set('gen_ai.request.max_tokens', event.maxTokensSent);
  // Money as decimal USD strings: exact, and a float attribute would invite summing rounding error.
  if (event.cost !== undefined) attributes['costgate.cost_usd'] = formatUsd(event.cost);
  if (event.baselineCost !== undefined) attributes['costgate.baseline_cost_usd'] = formatUsd(event.baselineCost);
  set('costgate.price_version', event.priceVersion);
  set('costgate.feature', event.attribution.feature);
  set('costgate.customer', event.attribution.customer);
  set('costgate.user', event.attribution.user);
  set('costgate.api_key_id', event.attribution.apiKeyId);
  set('costgate.cache_status', event.cacheStatus);
  set('costgate.route', event.route);
  set('costgate.batch_id', event.batchId);
  if (event.levers?.length) attributes['costgate.levers'] = event.levers.map((effect) => effect.lever);
  if (event.ttfbMs !== undefined) attributes['gen_ai.response.time_to_first_chunk'] = event.ttfbMs / 1000;
  return attributes;
}

export class OtelExport {
  private readonly queue: Array<{ event: UsageEvent; trace: IncomingTraceContext | undefined }> = [];
  private readonly maxQueued: number;
  private scheduled = false;
  private dropped = 0;
  private readonly tracerProvider: BasicTracerProvider;
  private readonly meterProvider: MeterProvider;
  private readonly tokenUsage: Histogram;
  private readonly duration: Histogram;
  private readonly log: (line: string) => void;

  constructor(options: OtelExportOptions) {
    this.maxQueued = options.maxQueued ?? 50_000;
    this.log = options.log ?? (() => {});
    const resource = resourceFromAttributes({ 'service.name': options.serviceName ?? 'costgate' });
    const headers = options.headers ?? {};
    this.tracerProvider = new BasicTracerProvider({
      resource,
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: joinUrl(options.endpoint, 'v1/traces'), headers }), { maxQueueSize: 8192, maxExportBatchSize: 512 })],
    });
    this.meterProvider = new MeterProvider({
      resource,
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({ url: joinUrl(options.endpoint, 'v1/metrics'), headers }),
          exportIntervalMillis: options.metricIntervalMs ?? 15_000,
        }),
      ],
    });
    const meter = this.meterProvider.getMeter('costgate');
    this.tokenUsage = meter.createHistogram('gen_ai.client.token.usage', {
      unit: '{token}',
      description: 'Number of input and output tokens used',
      advice: { explicitBucketBoundaries: TOKEN_BUCKETS },
    });
    this.duration = meter.createHistogram('gen_ai.client.operation.duration', {
      unit: 's',
      description: 'GenAI operation duration',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
  }

  /** On the request path: one push, the work happens on a later tick. */
  observe(event: UsageEvent, trace?: IncomingTraceContext): void {
    if (this.queue.length >= this.maxQueued) {
      this.dropped += 1;
      return;
    }
    this.queue.push({ event, trace });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  private drain(): void {
    this.scheduled = false;
    if (this.dropped > 0) {
      this.log(`OpenTelemetry export fell behind: ${this.dropped} calls not exported`);
      this.dropped = 0;
    }
    const tracer = this.tracerProvider.getTracer('costgate');
    for (const { event, trace } of this.queue.splice(0)) {
      try {
        this.record(tracer, event, trace);
      } catch (error) {
        this.log(`OpenTelemetry export failed for ${event.requestId}: ${(error as Error).message}`);
      }
    }
  }

  private record(tracer: ReturnType<BasicTracerProvider['getTracer']>, event: UsageEvent, trace: IncomingTraceContext | undefined): void {
    const common = commonAttributes(event);
    const operation = String(common['gen_ai.operation.name']);
    const model = event.requestedModel ?? event.servedModel;
    const span = tracer.startSpan(
      model ? `${operation} ${model}` : operation,
      { kind: SpanKind.CLIENT, startTime: event.time, attributes: spanAttributes(event) },
      parentContext(trace),
    );
    if (event.errorType !== undefined || event.status >= 400) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: event.errorType ?? `HTTP ${event.status}` });
    }
    span.end(event.time + event.latencyMs);
    this.duration.record(event.latencyMs / 1000, common);
    const { input, output } = event.usage;
    if (input.total !== undefined) this.tokenUsage.record(input.total, { ...common, 'gen_ai.token.type': 'input' });
    if (output.total !== undefined) this.tokenUsage.record(output.total, { ...common, 'gen_ai.token.type': 'output' });
  }

  /** Exports everything observed so far (used at shutdown and by tests). */
  async flush(): Promise<void> {
    this.drain();
    await Promise.all([this.tracerProvider.forceFlush(), this.meterProvider.forceFlush()]);
  }

  async close(): Promise<void> {
    this.drain();
    await Promise.all([this.tracerProvider.shutdown(), this.meterProvider.shutdown()]);
  }
}

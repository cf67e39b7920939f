import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AnomalyMonitor } from '../analytics/anomaly/anomaly-monitor.ts';
import { DEFAULT_DETECTOR_OPTIONS } from '../analytics/anomaly/detector.ts';
import { createNotifier } from '../analytics/anomaly/notify.ts';
import { OtelExport } from '../analytics/exports/otel-export.ts';
import { PrometheusMetrics } from '../analytics/exports/prometheus-metrics.ts';
import type { Config } from '../config/config-schema.ts';
import type { UsageEvent } from '../core/usage-event.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { IncomingTraceContext, UsageSink } from '../pipeline/record-usage/record-usage-stage.ts';
import type { Pricer } from '../pricing/pricer.ts';
import { createAnalyticsRoutes } from './analytics-routes.ts';

export const DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard/dist', import.meta.url));

export interface AnalyticsServices {
  /** Wraps the ledger's recorder so finished calls also feed the in-memory metrics. */
  usage(recorder: UsageSink): UsageSink;
  pages: ReturnType<typeof createAnalyticsRoutes>;
  monitor: AnomalyMonitor | undefined;
  metrics: PrometheusMetrics | undefined;
  /** OTLP export of spans and GenAI metrics; undefined when no endpoint is configured. */
  otel: OtelExport | undefined;
  close(): Promise<void>;
}

/** Builds the dashboard with esbuild when its assets are missing (a fresh clone started with `costgate serve`). */
async function ensureDashboard(log: (line: string) => void): Promise<void> {
  if (existsSync(join(DASHBOARD_DIR, 'index.html'))) return;
  try {
    const { buildDashboard } = (await import('../../dashboard/build.ts')) as { buildDashboard: (outDir: string) => Promise<void> };
    await buildDashboard(DASHBOARD_DIR);
  } catch (error) {
    log(`dashboard assets could not be built: ${(error as Error).message}`);
  }
}

/**
 * Everything analytics the gateway runs beside the request path: Prometheus counters, the periodic
 * anomaly check (a timer, unref'd, reading hourly aggregates from the ledger), and the routes for
 * /metrics, /dashboard and /costgate/admin/analytics/*.
 */
export function startAnalyticsServices(options: {
  config: Config;
  ledger: Ledger;
  pricer: Pricer;
  dataDir: string;
  adminKey: string | undefined;
  log: (line: string) => void;
  /** Where OTEL_EXPORTER_OTLP_ENDPOINT is read from (process.env by default). */
  environment?: Record<string, string | undefined>;
}): AnalyticsServices {
  const { analytics } = options.config;
  const metrics = analytics.metrics.enabled
    ? new PrometheusMetrics({ maxFeatureLabels: analytics.metrics.maxFeatureLabels, maxModelLabels: analytics.metrics.maxModelLabels })
    : undefined;
  const otelEndpoint = analytics.otel.endpoint ?? (options.environment ?? process.env).OTEL_EXPORTER_OTLP_ENDPOINT;
  const otel = otelEndpoint
    ? new OtelExport({
        endpoint: otelEndpoint,
        headers: analytics.otel.headers,
        serviceName: analytics.otel.serviceName,
        metricIntervalMs: analytics.otel.metricIntervalSeconds * 1000,
        log: options.log,
      })
    : undefined;
  const anomaly = analytics.anomaly;
  const monitor = anomaly.enabled
    ? new AnomalyMonitor({
        ledger: options.ledger,
        dimensions: anomaly.dimensions,
        historyDays: anomaly.historyDays,
        cooldownMs: anomaly.cooldownMinutes * 60_000,
        detector: { ...DEFAULT_DETECTOR_OPTIONS, threshold: anomaly.threshold, minCostUsd: anomaly.minCostUsd, minRequests: anomaly.minRequests },
        statePath: join(options.dataDir, 'anomaly-state.json'),
        notify: createNotifier({ webhookUrl: anomaly.webhookUrl, log: options.log }),
      })
    : undefined;
  let timer: NodeJS.Timeout | undefined;
  let checking: Promise<unknown> | undefined;
  if (monitor) {
    timer = setInterval(() => {
      checking = monitor.check().catch((error: unknown) => options.log(`anomaly check failed: ${(error as Error).message}`));
    }, anomaly.checkIntervalSeconds * 1000);
    timer.unref();
  }
  void ensureDashboard(options.log);
  const pages = createAnalyticsRoutes({
    ledger: options.ledger,
    pricer: options.pricer,
    adminKey: options.adminKey,
    monitor,
    metrics,
    dashboardDir: DASHBOARD_DIR,
  });
  return {
    usage(recorder) {
      if (!metrics && !otel) return recorder;
      return {
        record(event: UsageEvent, trace?: IncomingTraceContext) {
          recorder.record(event);
          metrics?.observe(event);
          otel?.observe(event, trace);
        },
      };
    },
    pages,
    monitor,
    metrics,
    otel,
    async close() {
      if (timer) clearInterval(timer);
      await checking;
      await otel?.close().catch((error: unknown) => options.log(`OpenTelemetry shutdown failed: ${(error as Error).message}`));
    },
  };
}

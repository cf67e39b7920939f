import { z } from 'zod';

const dimension = z.enum(['total', 'feature', 'customer', 'model', 'provider', 'api_key']);

const anomalyDefaults = {
  enabled: true,
  checkIntervalSeconds: 300,
  historyDays: 28,
  dimensions: ['total', 'feature', 'customer', 'model', 'api_key'] as Array<z.infer<typeof dimension>>,
  cooldownMinutes: 360,
  threshold: 4,
  minCostUsd: 0.1,
  minRequests: 10,
};

/** Anomaly alerts and Prometheus /metrics (both off the request path). */
export const analyticsConfigSchema = z.strictObject({
  anomaly: z
    .strictObject({
      /** Periodic checks in the gateway; `costgate alerts check` works either way. */
      enabled: z.boolean().default(anomalyDefaults.enabled),
      /** How often the gateway looks for newly completed hours to judge. */
      checkIntervalSeconds: z.number().int().min(10).default(anomalyDefaults.checkIntervalSeconds),
      historyDays: z.number().int().min(2).max(90).default(anomalyDefaults.historyDays),
      dimensions: z.array(dimension).min(1).default(anomalyDefaults.dimensions),
      /** Slack-compatible incoming webhook; alerts always go to the log too. */
      webhookUrl: z.url().optional(),
      cooldownMinutes: z.number().int().min(0).default(anomalyDefaults.cooldownMinutes),
      /** Robust z-score an hour must reach (lower = more sensitive). */
      threshold: z.number().positive().default(anomalyDefaults.threshold),
      /** Excess spend per hour below which nothing is reported. */
      minCostUsd: z.number().nonnegative().default(anomalyDefaults.minCostUsd),
      minRequests: z.number().int().min(1).default(anomalyDefaults.minRequests),
    })
    .default(anomalyDefaults),
  metrics: z
    .strictObject({
      /** Serve Prometheus text at /metrics. */
      enabled: z.boolean().default(true),
      /** Distinct feature label values kept; later ones are counted as "other". */
      maxFeatureLabels: z.number().int().min(1).max(10_000).default(50),
      maxModelLabels: z.number().int().min(1).max(10_000).default(100),
    })
    .default({ enabled: true, maxFeatureLabels: 50, maxModelLabels: 100 }),
  otel: z
    .strictObject({
      /**
       * OTLP/HTTP base URL (e.g. http://collector:4318); spans go to /v1/traces, metrics to /v1/metrics.
       * Absent: OTEL_EXPORTER_OTLP_ENDPOINT is used; neither set: nothing is exported.
       */
      endpoint: z.url().optional(),
      /** Extra request headers, e.g. an API key for a hosted collector (use ${ENV} interpolation). */
      headers: z.record(z.string(), z.string()).default({}),
      serviceName: z.string().min(1).default('costgate'),
      metricIntervalSeconds: z.number().int().min(1).default(15),
    })
    .default({ headers: {}, serviceName: 'costgate', metricIntervalSeconds: 15 }),
});

export type AnalyticsConfig = z.infer<typeof analyticsConfigSchema>;
export const ANALYTICS_CONFIG_DEFAULTS: AnalyticsConfig = analyticsConfigSchema.parse({});

import { z } from 'zod';

/**
 * `batch` in costgate.yaml: batch jobs (`costgate batch`) and deferred requests (README "Batch jobs").
 *
 *   batch:
 *     maxRetries: 2
 *     concurrency: 4
 *     maxEnqueuedTokens: 20000000
 *     bedrock: { bucket: my-batch-bucket, roleArn: arn:aws:iam::123:role/BedrockBatch }
 *     defer: { maxRequests: 1000, maxWaitMs: 60000, webhookSecret: ${COSTGATE_WEBHOOK_SECRET} }
 */

const limit = (maxRequests: number, maxBytes: number, minRequests: number) =>
  z
    .strictObject({
      maxRequests: z.number().int().positive().default(maxRequests),
      maxBytes: z.number().int().positive().default(maxBytes),
      minRequests: z.number().int().min(1).default(minRequests),
    })
    .prefault({});

const MB = 1024 * 1024;

export const batchConfigSchema = z
  .strictObject({
    /** Job store; default `<ledger dir>/batch.duckdb`. */
    storePath: z.string().optional(),
    /** Spill files (request bodies, chunk files, results); default `<ledger dir>/batch/`. */
    workDir: z.string().optional(),
    /** New batches a failed or expired line may be sent in after its first. */
    maxRetries: z.number().int().min(0).default(2),
    /** Provider batches in flight at once per job. */
    concurrency: z.number().int().positive().default(4),
    /** Estimated input tokens in flight per model (the provider's batch queue / enqueued-token limit). */
    maxEnqueuedTokens: z.number().int().positive().default(20_000_000),
    pollIntervalMs: z.number().int().positive().default(15_000),
    maxPollIntervalMs: z.number().int().positive().default(300_000),
    /** Per-batch limits: OpenAI 50,000 requests / 200 MB; Anthropic 100,000 / 256 MB; Bedrock 100..50,000 records, 1 GB. */
    limits: z
      .strictObject({
        openai: limit(50_000, 200 * MB, 1),
        anthropic: limit(100_000, 256 * MB, 1),
        bedrock: limit(50_000, 1024 * MB, 100),
      })
      .prefault({}),
    bedrock: z
      .strictObject({
        bucket: z.string().min(1),
        prefix: z.string().default('costgate-batch/'),
        roleArn: z.string().min(1),
        region: z.string().optional(),
        /** Control-plane endpoint (default: the SDK's, or AWS_ENDPOINT_URL_BEDROCK). */
        endpoint: z.url().optional(),
        /** S3 endpoint, path-style (default: the SDK's, or AWS_ENDPOINT_URL_S3). */
        s3Endpoint: z.url().optional(),
        timeoutHours: z.number().int().min(24).max(168).default(24),
        /** A model group with fewer lines than limits.bedrock.minRequests: sent on demand (InvokeModel, on-demand price), or failed. */
        belowMinimum: z.enum(['on-demand', 'fail']).default('on-demand'),
      })
      .optional(),
    /** Deferred requests through the gateway (`x-costgate-defer: 24h`): gathered per provider and model, sent as batches. */
    defer: z
      .strictObject({
        enabled: z.boolean().default(false),
        /** Flush a provider+model group once it holds this many requests... */
        maxRequests: z.number().int().positive().default(1000),
        /** ...or once its oldest request has waited this long. */
        maxWaitMs: z.number().int().positive().default(60_000),
        /** HMAC-SHA256 key for webhook signatures; without it, requests naming a webhook are refused. */
        webhookSecret: z.string().min(16).optional(),
        webhookTimeoutMs: z.number().int().positive().default(10_000),
        /** Delivery attempts per webhook (backoff 1 s, 2 s, 4 s, ...). */
        webhookAttempts: z.number().int().min(1).default(5),
        /**
         * Raise the client's Anthropic cache_control markers to the 1h TTL in deferred requests (a batch
         * outlasts 5-minute entries): `auto` when the prompt-cache planner is on, or always, or never.
         */
        oneHourCache: z.enum(['auto', 'always', 'never']).default('auto'),
        /** Days a finished result stays readable at GET /costgate/deferred/{id}. */
        retentionDays: z.number().positive().default(7),
      })
      .prefault({}),
  })
  .prefault({});

export type BatchConfig = z.infer<typeof batchConfigSchema>;

import { rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { LoadedConfig } from '../config/load-config.ts';
import { isPostgresUrl, ledgerLocalDir, ledgerSpoolDir, openLedger } from '../ledger/open-ledger.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { createUsageRecorder, type UsageRecorder } from '../ledger/usage-recorder.ts';
import { replayOrphanedSpools } from '../ledger/spool/orphaned-spools.ts';
import { createDefaultPipeline } from '../pipeline/default-pipeline.ts';
import { RecentCalls } from '../pipeline/router/recent-calls.ts';
import { RedisRecentCalls } from '../pipeline/router/redis-recent-calls.ts';
import { createSharedRedis } from '../pipeline/shared-state/shared-redis.ts';
import { REDIS_DEFAULTS } from '../config/redis-config.ts';
import { UpstreamClient } from '../pipeline/forward/upstream-client.ts';
import { createPricer, type Pricer } from '../pricing/pricer.ts';
import { createAnthropicAdapter } from '../providers/anthropic/anthropic-adapter.ts';
import { createBedrockAdapter } from '../providers/bedrock/bedrock-adapter.ts';
import { createOpenAIAdapter } from '../providers/openai/openai-adapter.ts';
import { createAdminRoutes } from './admin-routes.ts';
import { createKeyAdminRoutes } from './key-admin-routes.ts';
import { CachedKeyLookup } from '../keys/cached-key-lookup.ts';
import { openKeyStore } from '../keys/open-key-store.ts';
import { ledgerSpendSource } from '../pipeline/budgets/budget-setup.ts';
import { ConfigError } from '../config/load-config.ts';
import { createFeedbackRoute } from './feedback-routes.ts';
import { createDeferredRoute } from './deferred-routes.ts';
import { startGatewayDeferral } from '../batch/deferred/gateway-deferral.ts';
import { startAnalyticsServices } from './analytics-services.ts';
import { createGatewayServer } from './gateway-server.ts';
import type { Adapters } from './routes.ts';

export interface RunningGateway {
  url: string;
  ledger: Ledger;
  recorder: UsageRecorder;
  pricer: Pricer;
  /** Drains in-flight calls, flushes usage to the ledger and closes everything. */
  close(): Promise<void>;
}

export interface StartGatewayOptions {
  loaded: LoadedConfig;
  /** Overrides config.server.port / config.ledger.path (CLI flags). */
  port?: number;
  host?: string;
  ledgerPath?: string;
  /** Overrides config.redis.url (`--redis`): state shared with other replicas goes to this Redis. */
  redisUrl?: string;
  log?: (line: string) => void;
  /** Epoch ms for stages that learn from timing; a benchmark passes the emulator's clock. */
  clock?: () => number;
}

export function createAdapters(loaded: LoadedConfig): Adapters {
  const { upstreams } = loaded;
  return {
    openai: createOpenAIAdapter(upstreams.openai),
    anthropic: createAnthropicAdapter(upstreams.anthropic),
    bedrock: createBedrockAdapter(upstreams.bedrock),
  };
}

export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  const { config } = options.loaded;
  // Whoever holds the admin key can mint virtual keys, so with keys on the admin API must be closed.
  if (config.keys.enabled && !process.env.COSTGATE_ADMIN_KEY) throw new ConfigError('keys.enabled needs COSTGATE_ADMIN_KEY set (the admin API creates and revokes keys)');
  const ledgerPath = options.ledgerPath ?? config.ledger.path;
  // A replica (re)started while a shared Postgres ledger is down still serves; events wait in its spool.
  const ledger = await openLedger(ledgerPath, { hold: true, startUnreachable: true, onError: (error) => options.log?.(`ledger: ${error.message}`) });
  // A Postgres URL has no folder: local files go to ledger.localDir (default ./.costgate).
  const dataDir = ledgerLocalDir(ledgerPath, config.ledger.localDir);
  const spoolDir = config.ledger.spoolDir ?? ledgerSpoolDir(ledgerPath, config.ledger.localDir, { host: options.host ?? config.server.host, port: options.port ?? config.server.port });
  const recorder = await createUsageRecorder({
    ledger,
    spoolDir,
    flushIntervalMs: config.ledger.flushIntervalMs,
    // Large batches: a flush's fixed cost is shared by more calls under load.
    maxBatch: 5000,
    onError: (error: unknown) => options.log?.(`ledger flush failed, will retry: ${String(error)}`),
  });
  // Replicas of a shared ledger spool side by side: store what replicas gone for good left behind.
  const orphans = isPostgresUrl(ledgerPath) && config.ledger.spoolDir === undefined ? replayOrphanedSpools(spoolDir, ledger, (line) => options.log?.(line)).catch(() => 0) : undefined;
  const pricer = createPricer({ overrides: config.prices.overrides });
  const upstream = new UpstreamClient({ connectTimeoutMs: config.resilience.timeouts.connectMs });
  const analytics = startAnalyticsServices({
    config,
    ledger,
    pricer,
    dataDir,
    adminKey: process.env.COSTGATE_ADMIN_KEY,
    log: options.log ?? ((line) => console.error(`costgate: ${line}`)),
  });
  const adapters = createAdapters(options.loaded);
  // Stages with state (the response cache) register their flush-and-snapshot here.
  const closers: Array<() => Promise<void>> = [];
  // Deferred requests (x-costgate-defer): persisted, batched per provider and model, run as batch jobs.
  const deferral = config.batch.defer.enabled ? await startGatewayDeferral({ loaded: options.loaded, ledgerPath, pricer, usage: analytics.usage(recorder), ...(options.log ? { log: options.log } : {}) }) : undefined;
  if (deferral) closers.push(() => deferral.close());
  // Replicas share caches and planner evidence through Redis when one is named; otherwise all stays in-process.
  const redisUrl = options.redisUrl ?? config.redis?.url;
  const redis = redisUrl ? createSharedRedis({ config: { ...REDIS_DEFAULTS, ...config.redis, url: redisUrl }, log: options.log ?? ((line) => console.error(`costgate: ${line}`)) }) : undefined;
  // Routed calls remembered (with their prompt) for an hour, so feedback can become training data;
  // with Redis, feedback that reaches another replica finds them too.
  const recentCalls = redis ? new RedisRecentCalls(redis) : new RecentCalls();
  // Virtual keys: stored durably (file or Postgres), read through a short cache; budgets reseed from this ledger.
  const keyStore = config.keys.enabled ? openKeyStore(config.keys, ledgerPath, config.ledger.localDir) : undefined;
  if (keyStore) closers.push(() => keyStore.close());
  const virtualKeys = keyStore ? { lookup: new CachedKeyLookup(keyStore, config.keys.cacheSeconds * 1000), spendSource: ledgerSpendSource(ledger, () => recorder.flush()), rebuildGraceMs: 2 * config.ledger.flushIntervalMs + 500 } : undefined;
  const pipeline = createDefaultPipeline({ config, pricer, usage: analytics.usage(recorder), upstream, dataDir, adapters, closers, outcomes: ledger, recentCalls, ...(deferral ? { deferQueue: deferral.batcher } : {}), ...(options.log ? { log: options.log } : {}), ...(options.clock ? { clock: options.clock } : {}), ...(redis ? { redis } : {}), ...(virtualKeys ? { virtualKeys } : {}) });
  const server = createGatewayServer({
    adapters,
    pipeline,
    maxBodyBytes: config.server.maxBodyBytes,
    admin: createAdminRoutes(ledger, process.env.COSTGATE_ADMIN_KEY, keyStore ? createKeyAdminRoutes(keyStore) : undefined),
    feedback: createFeedbackRoute({ ledger, recentCalls, flush: () => recorder.flush() }),
    ...(deferral ? { deferred: createDeferredRoute(deferral.batcher) } : {}),
    pages: analytics.pages,
    ...(options.log ? { log: options.log } : {}),
  });
  const url = await server.listen(options.port ?? config.server.port, options.host ?? config.server.host);
  // Tells `costgate report` in another process where to read this ledger while it is held open.
  // A Postgres ledger is read directly by any process, so there is nothing to announce.
  const marker = isPostgresUrl(ledgerPath) ? undefined : holderMarkerPath(ledgerPath);
  if (marker) writeFileSync(marker, JSON.stringify({ url, pid: process.pid }));
  return {
    url,
    ledger,
    recorder,
    pricer,
    async close() {
      await server.close();
      await analytics.close();
      for (const close of closers) await close();
      await redis?.close();
      await upstream.close();
      try {
        await orphans;
        // Rejects when events could not reach the ledger (they stay spooled for the next start).
        await recorder.close();
      } finally {
        await ledger.close();
        if (marker) rmSync(marker, { force: true });
      }
    },
  };
}

/** One spool per ledger file, beside it, so two ledgers never replay each other's events. */
export function defaultSpoolDir(ledgerPath: string): string {
  return join(dirname(ledgerPath), 'spool', basename(ledgerPath).replace(/\.[^.]+$/, '') || 'ledger');
}

/** Where a gateway holding `ledgerPath` open announces its URL. */
export function holderMarkerPath(ledgerPath: string): string {
  return `${ledgerPath}.gateway.json`;
}

import type { Config } from '../config/config-schema.ts';
import { promptCacheEnabled } from '../config/prompt-cache-config.ts';
import type { ProviderId } from '../core/provider-id.ts';
import type { Pricer } from '../pricing/pricer.ts';
import type { ProviderAdapter } from '../providers/provider.ts';
import { createAttributionStage } from './attribution/attribution-stage.ts';
import { createBudgetStage, type VirtualKeyAccess } from './budgets/budget-setup.ts';
import { compose } from './compose.ts';
import type { DeferQueue } from './defer/defer-queue.ts';
import { createDeferStage } from './defer/defer-stage.ts';
import type { CallContext } from './context.ts';
import { createContextTrimStage } from './context-trim/context-trim-stage.ts';
import { createForwardStage } from './forward/forward-stage.ts';
import { createOutputPolicyStage } from './output-policy/output-policy-stage.ts';
import type { UpstreamClient } from './forward/upstream-client.ts';
import { createPromptCacheStage } from './prompt-cache/prompt-cache-stage.ts';
import { RedisPrefixStatistics } from './prompt-cache/redis-prefix-statistics.ts';
import { createRecordUsageStage, type UsageSink } from './record-usage/record-usage-stage.ts';
import { createRecordBodiesStages } from './record-bodies/record-bodies-stage.ts';
import { createResilienceStage, resilienceActive } from './resilience/resilience-stage.ts';
import { createResponseCacheStages } from './response-cache/response-cache-stages.ts';
import type { RecentCalls } from './router/recent-calls.ts';
import type { SharedRedis } from './shared-state/shared-redis.ts';
import { createRouterStage, type OutcomeSink } from './router/router-stage.ts';
import type { Stage } from './stage.ts';

export interface PipelineDependencies {
  config: Config;
  pricer: Pricer;
  usage: UsageSink;
  upstream: UpstreamClient;
  /** Folder beside the ledger where stages persist what they learn (statistics, caches). */
  dataDir: string;
  /** Operator-facing lines (alerts such as the output policy's truncation guard); default stderr. */
  log?: (line: string) => void;
  /** Epoch ms for stages that learn from timing (prompt-cache reuse intervals); Date.now unless a benchmark drives time. */
  clock?: () => number;
  /** The gateway's provider adapters, for stages that call a provider themselves (the semantic cache's embedder). */
  adapters?: Partial<Record<ProviderId, ProviderAdapter>>;
  /** Stages that hold state push a function here; the gateway runs them on shutdown (flush, snapshot). */
  closers?: Array<() => Promise<void>>;
  /** Where the router stores shadow comparisons (the ledger's outcomes). */
  outcomes?: OutcomeSink;
  /** Routed calls remembered for feedback (shared with the feedback route). */
  recentCalls?: RecentCalls;
  /** Where `x-costgate-defer` requests go (src/batch/deferred/); absent = deferral is off and the header is ignored. */
  deferQueue?: DeferQueue;
  /** The Redis connection replicas share state through (config `redis.url`); absent = every stage keeps its state in this process. */
  redis?: SharedRedis;
  /** Virtual keys (config `keys.enabled`): every call must present one; absent = clients send provider keys. */
  virtualKeys?: VirtualKeyAccess;
}

/** Deferred Anthropic requests get 1h cache markers when configured, or (auto) when the prompt-cache planner is on. */
function deferOneHourCache(config: Config): boolean {
  const mode = config.batch.defer.oneHourCache;
  return mode === 'always' || (mode === 'auto' && promptCacheEnabled(config.promptCache));
}

/** The planner, registered to write its last statistics snapshot when the gateway shuts down. */
function createPromptCachePlanner(dependencies: PipelineDependencies): Stage {
  // With Redis, every replica plans from the evidence of all of them.
  const shared = dependencies.redis ? new RedisPrefixStatistics(dependencies.redis, { maxPrefixes: dependencies.config.promptCache.maxPrefixes }) : undefined;
  const planner = createPromptCacheStage({
    config: dependencies.config.promptCache,
    pricer: dependencies.pricer,
    dataDir: dependencies.dataDir,
    ...(dependencies.clock ? { now: dependencies.clock } : {}),
    ...(shared ? { statistics: shared } : {}),
  });
  dependencies.closers?.push(async () => {
    await planner.close();
    await shared?.close();
  });
  return planner;
}

/** Counters in the shared Redis when there is one, so every replica enforces the same budgets. */
function createVirtualKeys(dependencies: PipelineDependencies, keys: VirtualKeyAccess): Stage {
  const { redis } = dependencies;
  return createBudgetStage({
    config: dependencies.config.budgets,
    keys,
    pricer: dependencies.pricer,
    ...(redis ? { redis: { client: redis.client, keyPrefix: redis.keyPrefix, commandTimeoutMs: dependencies.config.redis.commandTimeoutMs } } : {}),
    ...logOption(dependencies),
  });
}

function logOption(dependencies: PipelineDependencies): { log?: (line: string) => void } {
  return dependencies.log ? { log: dependencies.log } : {};
}

/**
 * The order matters: attribution first (every lever is per feature and tenant); record-usage
 * wraps all levers, so it sees what each did once the call has ended; levers that can answer
 * without an upstream call (the response cache) come before those that reshape the request
 * (routing, output policy, context trimming, prompt-cache breakpoints); forward is last.
 */
export function defaultStages(dependencies: PipelineDependencies): Stage[] {
  return [
    createAttributionStage(),
    // virtual keys: authentication, allowed models, per-minute limits, budgets settled from record-usage's cost
    ...(dependencies.virtualKeys ? [createVirtualKeys(dependencies, dependencies.virtualKeys)] : []),
    // deferred requests (x-costgate-defer): answered 202 before record-usage, so no on-demand row;
    // the batch job records the row at the batch price. Absent unless batch.defer.enabled.
    ...(dependencies.deferQueue ? [createDeferStage(dependencies.deferQueue, { oneHourCache: deferOneHourCache(dependencies.config) })] : []),
    createRecordUsageStage(dependencies.pricer, dependencies.usage),
    // redacted request and response bodies: absent unless data.storeBodies (the default keeps none)
    ...(dependencies.config.data ? createRecordBodiesStages({ config: dependencies.config.data, dataDir: dependencies.dataDir, ...(dependencies.closers ? { closers: dependencies.closers } : {}), ...logOption(dependencies) }) : []),
    // response cache (exact, then semantic): absent unless some feature's policy turns it on
    ...createResponseCacheStages(dependencies),
    // routing and cascades: absent unless router.enabled
    ...(dependencies.config.router.enabled
      ? [
          createRouterStage({
            config: dependencies.config.router,
            pricer: dependencies.pricer,
            usage: dependencies.usage,
            baseDir: process.cwd(),
            ...(dependencies.outcomes ? { outcomes: dependencies.outcomes } : {}),
            ...(dependencies.recentCalls ? { recentCalls: dependencies.recentCalls } : {}),
            ...(dependencies.closers ? { closers: dependencies.closers } : {}),
            ...logOption(dependencies),
          }),
        ]
      : []),
    createContextTrimStage({ config: dependencies.config.contextTrim, pricer: dependencies.pricer, ...logOption(dependencies) }),
    createOutputPolicyStage({
      config: dependencies.config.outputPolicy,
      pricer: dependencies.pricer,
      dataDir: dependencies.dataDir,
      ...logOption(dependencies),
    }),
    // prompt-cache planner: absent unless some feature's mode is observe or auto
    ...(promptCacheEnabled(dependencies.config.promptCache) ? [createPromptCachePlanner(dependencies)] : []),
    // retries, circuit breakers and fallbacks: each attempt re-runs only forward; absent when all are off
    ...(resilienceActive(dependencies.config.resilience)
      ? [createResilienceStage({ config: dependencies.config.resilience, adapters: dependencies.adapters ?? {}, ...logOption(dependencies), ...(dependencies.clock ? { now: dependencies.clock } : {}) })]
      : []),
    createForwardStage(dependencies.upstream, dependencies.config.resilience.timeouts),
  ];
}

export function createDefaultPipeline(dependencies: PipelineDependencies): (context: CallContext) => Promise<void> {
  return compose(defaultStages(dependencies));
}

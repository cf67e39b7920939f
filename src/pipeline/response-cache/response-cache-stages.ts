import type { ResponseCacheConfig } from '../../config/response-cache-config.ts';
import type { PipelineDependencies } from '../default-pipeline.ts';
import { createEmbedder } from '../semantic-cache/create-embedder.ts';
import { SemanticCache } from '../semantic-cache/semantic-cache.ts';
import { createSemanticCacheStage } from '../semantic-cache/semantic-cache-stage.ts';
import { loadUsearch, PartitionedVectorIndex } from '../semantic-cache/vector-index.ts';
import type { Stage } from '../stage.ts';
import { CachePolicies } from './cache-policy.ts';
import { ResponseCache } from './response-cache.ts';
import { createResponseCacheStage } from './response-cache-stage.ts';

/**
 * The response-cache stages for the configured policies: none at all when every policy is off
 * (the default), so a gateway without a cache does not pay even a lookup.
 */
export function createResponseCacheStages(dependencies: PipelineDependencies): Stage[] {
  // Absent only in hand-built configs (tests, benchmarks): the same as every policy off.
  const config = dependencies.config.responseCache as ResponseCacheConfig | undefined;
  if (!config) return [];
  const policies = new CachePolicies(config);
  if (!policies.anyEnabled) return [];
  const log = dependencies.log ?? (() => {});
  const cache = new ResponseCache(config, dependencies.dataDir, log, dependencies.redis);
  dependencies.closers?.push(() => cache.close());
  const stages: Stage[] = [createResponseCacheStage(cache, dependencies.pricer)];
  const embedderConfig = config.semantic.embedder;
  if (policies.anySemantic && embedderConfig) {
    const embedder = createEmbedder(embedderConfig, {
      adapters: dependencies.adapters,
      upstream: dependencies.upstream,
      timeoutMs: config.semantic.embedTimeoutMs,
    });
    const index = new PartitionedVectorIndex(undefined);
    const graphs = loadUsearch().then((usearch) => {
      if (usearch) index.enableGraphs(usearch);
      else log('semantic cache: usearch did not load; every partition uses exact search');
    });
    const semantic = new SemanticCache(cache, embedder, index, config.semantic, dependencies.dataDir, log, undefined, graphs);
    dependencies.closers?.unshift(() => semantic.close());
    stages.push(createSemanticCacheStage({ semantic, pricer: dependencies.pricer, usage: dependencies.usage, log }));
  }
  return stages;
}

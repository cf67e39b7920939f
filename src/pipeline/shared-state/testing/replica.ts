import { parseConfig } from '../../../config/load-config.ts';
import type { CallContext } from '../../context.ts';
import { createResponseCacheStage } from '../../response-cache/response-cache-stage.ts';
import { ResponseCache } from '../../response-cache/response-cache.ts';
import { GloveEmbedder } from '../../semantic-cache/glove-embedder.ts';
import { SemanticCache } from '../../semantic-cache/semantic-cache.ts';
import { createSemanticCacheStage } from '../../semantic-cache/semantic-cache-stage.ts';
import { chatContext, collectingSink, fakeUpstream, pricer, runPipeline, type ChatRequest } from '../../semantic-cache/testing/stage-harness.ts';
import { seededRandom, writeTinyGlove } from '../../semantic-cache/testing/tiny-glove.ts';
import { PartitionedVectorIndex } from '../../semantic-cache/vector-index.ts';
import type { SharedRedis } from '../shared-redis.ts';

const GLOVE = writeTinyGlove();

/** One gateway replica's cache stages in front of a fake upstream, sharing state through `redis`. */
export interface Replica {
  ask(request: ChatRequest): Promise<CallContext>;
  upstream: { calls: number };
  cache: ResponseCache;
  semantic: SemanticCache;
  close(): Promise<void>;
}

export function answerFor(prompt: string): string {
  if (prompt.includes('refund')) return 'Refunds are issued within 30 days.';
  return `An answer to: ${prompt}`;
}

export async function startReplica(redis: SharedRedis | undefined, policy: Record<string, unknown>): Promise<Replica> {
  const config = parseConfig({
    responseCache: {
      persist: false,
      default: { errorBound: 0.2, shadowRate: 0, minSimilarity: 0, ...policy },
      semantic: { embedder: { type: 'glove', path: GLOVE } },
    },
  }).responseCache;
  const cache = new ResponseCache(config, undefined, () => {}, redis);
  const semantic = new SemanticCache(cache, new GloveEmbedder(GLOVE), new PartitionedVectorIndex(undefined), config.semantic, undefined, () => {}, seededRandom(3));
  await semantic.ready;
  const upstream = fakeUpstream(answerFor);
  const pipeline = runPipeline([createResponseCacheStage(cache, pricer), createSemanticCacheStage({ semantic, pricer, usage: collectingSink() }), upstream]);
  return {
    async ask(request) {
      const context = await pipeline(chatContext(request));
      await semantic.idle();
      // Background writes reach Redis before the test looks from another replica.
      await cache.store.flush();
      return context;
    },
    upstream,
    cache,
    semantic,
    async close() {
      await semantic.close();
      await cache.close();
    },
  };
}

/** Waits (a bounded number of short turns) until `condition` holds; false if it never does. */
export async function eventually(condition: () => boolean | Promise<boolean>, turns = 200): Promise<boolean> {
  for (let turn = 0; turn < turns; turn += 1) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return condition();
}

import type { Pricer } from '../../pricing/pricer.ts';
import { responseText } from '../../providers/response-cache-view.ts';
import type { CallContext } from '../context.ts';
import type { UsageSink } from '../record-usage/record-usage-stage.ts';
import { replay } from '../response-cache/recorded-response.ts';
import { freshAnswer, hitLever } from '../response-cache/response-cache-stage.ts';
import type { Stage } from '../stage.ts';
import type { EmbedOptions, Embedder, EmbeddingCall } from './embedder.ts';
import { recordEmbeddingCalls } from './embedding-ledger.ts';
import { semanticIneligibility } from './eligibility.ts';
import { EmbeddingError } from './remote-embedders.ts';
import { semanticPartition, type SemanticCache } from './semantic-cache.ts';
import type { Candidate, MatchPolicy } from './semantic-matcher.ts';
import { dot } from './vector-index.ts';

export interface SemanticStageDependencies {
  semantic: SemanticCache;
  pricer: Pricer;
  usage: UsageSink;
  /** Failures of background answer checks. */
  log?: (line: string) => void;
}

/** Answers longer than this are compared on their beginning: enough to tell two answers apart. */
const MAX_ANSWER_CHARACTERS = 8_000;

function round(value: number | undefined): number | undefined {
  return value === undefined ? undefined : Math.round(value * 10_000) / 10_000;
}

/** The caller's own OpenAI key, for an OpenAI embedder when the gateway holds none. */
function embedOptions(context: CallContext): EmbedOptions {
  const options: EmbedOptions = { signal: context.signal };
  const authorization = context.call.headers['authorization'];
  if (context.call.operation.provider === 'openai' && authorization !== undefined) options.headers = { authorization };
  return options;
}

function normalizeText(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim();
}

/**
 * Whether two answers say the same: identical once whitespace and case are set aside, or
 * embeddings at least `agreement` apart in cosine. Undefined when one of them has no text.
 */
export async function answersAgree(
  embedder: Embedder,
  cached: string | undefined,
  fresh: string | undefined,
  agreement: number,
  options: EmbedOptions,
): Promise<{ agree: boolean; similarity: number; calls: EmbeddingCall[] } | undefined> {
  if (!cached?.trim() || !fresh?.trim()) return undefined;
  if (normalizeText(cached) === normalizeText(fresh)) return { agree: true, similarity: 1, calls: [] };
  const embedding = await embedder.embed([cached.slice(0, MAX_ANSWER_CHARACTERS), fresh.slice(0, MAX_ANSWER_CHARACTERS)], options);
  const [left, right] = embedding.vectors;
  if (!left || !right) return undefined;
  const similarity = dot(left, right);
  return { agree: similarity >= agreement, similarity, calls: embedding.calls };
}

/**
 * Semantic response cache, behind the exact cache. For a first-turn question that is safe to
 * share, it embeds the question, finds the closest earlier question of the same tenant, feature,
 * model and context that the guard accepts, and serves its answer when the similarity clears the
 * threshold learned for that entry. Sampled would-be hits, and every candidate below the
 * threshold, go upstream instead, and the two answers are compared to keep learning.
 */
export function createSemanticCacheStage(dependencies: SemanticStageDependencies): Stage {
  const { semantic, pricer, usage } = dependencies;
  const { matcher, embedder, cache } = semantic;
  const log = dependencies.log ?? (() => {});

  async function checkAnswer(context: CallContext, candidate: Candidate, policy: MatchPolicy, weight: number, fresh: Buffer): Promise<void> {
    const cached = await cache.store.peek(candidate.entry.key);
    if (!cached) return;
    const options = embedOptions(context);
    delete options.signal; // the client may be gone by now; the check still counts
    try {
      const verdict = await answersAgree(embedder, responseText(context.call, cached.body), responseText(context.call, fresh), cache.config.semantic.answerAgreement, options);
      if (verdict) {
        recordEmbeddingCalls(verdict.calls, 'answer-check', context, pricer, usage);
        matcher.observe(candidate, policy, verdict.agree, weight);
        semantic.markDirty();
      }
    } catch (error) {
      if (error instanceof EmbeddingError) recordEmbeddingCalls(error.calls, 'answer-check', context, pricer, usage);
      log(`semantic cache answer check failed: ${String(error)}`);
    }
  }

  return {
    name: 'semantic-cache',
    async run(context, next) {
      const state = context.responseCache;
      const view = state?.view.semantic;
      if (!state || state.policy.semantic === 'off' || !view) return next();
      const { policy } = state;
      const skipped = semanticIneligibility(view, policy);
      if (skipped) {
        context.levers.push({ lever: 'response_cache', saving: 0n, estimated: false, detail: { kind: 'semantic', skipped } });
        return next();
      }
      await semantic.ready;
      // `no-cache` asks for a fresh answer: look and learn, never serve.
      const mode = policy.semantic === 'shadow' || state.control.noCache ? 'shadow' : 'on';
      const feature = context.attribution.feature;

      let vector: Float32Array | undefined;
      let embeddingRows: string[] = [];
      try {
        const embedding = await embedder.embed([view.prompt], embedOptions(context));
        embeddingRows = recordEmbeddingCalls(embedding.calls, 'embedding', context, pricer, usage);
        vector = embedding.vectors[0];
      } catch (error) {
        if (error instanceof EmbeddingError) recordEmbeddingCalls(error.calls, 'embedding', context, pricer, usage);
        context.levers.push({ lever: 'response_cache', saving: 0n, estimated: false, detail: { kind: 'semantic', skipped: 'embedding_failed' } });
        return next();
      }
      if (!vector) return next();

      const partition = semanticPartition(embedder.id, state.tenant, feature, context.call, view.context);
      const now = Date.now();
      const lookup = await matcher.lookup(partition, state.tenant, vector, view.prompt, now);
      const { candidate } = lookup;
      const decision = matcher.decide(candidate, policy, mode);
      const detail: Record<string, unknown> = {
        kind: 'semantic',
        mode,
        decision: decision.kind,
        similarity: round(candidate?.similarity ?? lookup.nearestSimilarity),
        threshold: Number.isFinite(decision.threshold) ? round(decision.threshold) : null,
        errorBound: policy.errorBound,
      };
      if (lookup.rejected) detail.guardRejected = lookup.rejected;
      if (embeddingRows.length > 0) detail.embeddingRequestIds = embeddingRows;

      if (decision.kind === 'serve' && candidate) {
        const entry = await cache.store.get(candidate.entry.key, now);
        if (entry && entry.tenant === state.tenant) {
          context.cacheStatus = 'semantic_hit';
          replay(context, entry, 'semantic_hit', now);
          semantic.touch(entry.key);
          context.levers.push(hitLever(pricer, entry, 0n, now, { ...detail, matchedPrompt: candidate.entry.prompt.slice(0, 200) }));
          return;
        }
      }

      context.cacheStatus = decision.kind === 'check' ? 'shadow' : 'miss';
      state.semantic = { partition, prompt: view.prompt, vector, feature };
      await next();

      if ((decision.kind === 'check' || decision.kind === 'explore') && candidate) {
        const fresh = freshAnswer(context, state, cache.config.maxEntryBytes);
        if (fresh) {
          detail.answerCheck = 'scheduled';
          // Off the response path: the comparison may need an embedding call of its own.
          semantic.track(checkAnswer(context, candidate, policy, decision.weight, fresh.body));
        }
      }
      context.levers.push({ lever: 'response_cache', saving: 0n, estimated: false, detail });
    },
  };
}

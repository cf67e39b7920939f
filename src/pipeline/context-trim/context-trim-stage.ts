import type { ContextTrimConfig, ContextTrimEntry } from '../../config/context-trim-config.ts';
import type { Usage } from '../../core/usage.ts';
import type { Pricer } from '../../pricing/pricer.ts';
import { CONTEXT_MARKER } from '../../providers/context-documents.ts';
import { contextDocumentsFor } from '../../providers/context-documents-registry.ts';
import type { CallContext } from '../context.ts';
import type { Stage } from '../stage.ts';
import { bm25Reranker, createCrossEncoderReranker, type Reranker } from './reranker.ts';
import { estimateTokens, selectDocuments } from './select-documents.ts';

export interface ContextTrimStageOptions {
  config: ContextTrimConfig;
  pricer: Pricer;
  log?: (line: string) => void;
  /** Replaces the cross-encoder built from config (tests pass a fake). */
  crossEncoder?: Reranker;
}

interface Trim {
  documents: number;
  kept: number;
  tokensRemoved: number;
  reranker: string;
}

const MARKER_BYTES = Buffer.from(`"${CONTEXT_MARKER}"`);

function resolve(config: ContextTrimConfig, feature: string | undefined): ContextTrimEntry {
  const own = feature === undefined ? undefined : config.features[feature];
  return own ? { ...config.default, ...own } : config.default;
}

/**
 * The context-trim lever: retrieved documents the client marked are reranked against the user's
 * question and cut to a top-k or a token budget. The removed tokens are priced as a saving
 * (estimated: the count is a four-characters-a-token estimate).
 */
export function createContextTrimStage(options: ContextTrimStageOptions): Stage {
  const { config, pricer } = options;
  const log = options.log ?? ((line: string) => console.warn(line));
  let crossEncoder = options.crossEncoder;
  let crossEncoderFailed = false;
  if (!crossEncoder && config.crossEncoder) {
    crossEncoder = createCrossEncoderReranker({ model: config.crossEncoder.model, localFilesOnly: config.crossEncoder.localFilesOnly });
  }

  async function rank(entry: ContextTrimEntry, query: string, texts: string[]): Promise<{ scores: number[]; name: string }> {
    if (entry.reranker === 'cross-encoder' && crossEncoder && !crossEncoderFailed) {
      try {
        return { scores: await crossEncoder.score(query, texts), name: crossEncoder.name };
      } catch (error) {
        crossEncoderFailed = true;
        log(`context-trim: cross-encoder unavailable, using BM25 instead: ${(error as Error).message}`);
      }
    }
    return { scores: await bm25Reranker.score(query, texts), name: bm25Reranker.name };
  }

  async function trim(context: CallContext, body: Record<string, unknown>): Promise<Trim | undefined> {
    const entry = resolve(config, context.attribution.feature);
    if (entry.enabled === false || (entry.topK === undefined && entry.maxTokens === undefined)) return undefined;
    const access = contextDocumentsFor(context.call);
    const marked = access?.find(body);
    if (!marked || marked.blocked || marked.query.trim() === '') return undefined;
    const texts = marked.documents.map(({ text }) => text);
    const { scores, name } = await rank(entry, marked.query, texts);
    const candidates = marked.documents.map((document, index) => ({
      score: scores[index] ?? 0,
      tokens: estimateTokens(document.text),
      pinned: document.pinned,
    }));
    const kept = new Set(selectDocuments(candidates, { topK: entry.topK, maxTokens: entry.maxTokens, minDocuments: entry.minDocuments ?? 1 }));
    if (kept.size === candidates.length) return undefined;
    const removed = new Set<number>();
    let tokensRemoved = 0;
    candidates.forEach((candidate, index) => {
      if (kept.has(index)) return;
      removed.add(index);
      tokensRemoved += candidate.tokens;
    });
    marked.remove(removed);
    return { documents: candidates.length, kept: kept.size, tokensRemoved, reranker: name };
  }

  function account(context: CallContext, result: Trim): void {
    const usage: Usage | undefined = context.facts?.usage;
    const model = context.facts?.servedModel ?? context.call.model;
    let saving = 0n;
    if (usage && model && usage.input.total !== undefined) {
      // Priced as the same call with the removed tokens back in, so a long-context tier is respected.
      const at = new Date(context.receivedAt);
      const provider = context.call.operation.provider;
      const input = { ...usage.input, total: usage.input.total + result.tokensRemoved, noCache: (usage.input.noCache ?? 0) + result.tokensRemoved };
      const actual = pricer.cost({ provider, model, usage, at });
      const baseline = pricer.cost({ provider, model, usage: { ...usage, input }, at });
      if (actual && baseline) saving = baseline.cost - actual.cost;
    }
    context.levers.push({ lever: 'context_trim', saving, estimated: true, detail: { ...result } });
  }

  return {
    name: 'context-trim',
    async run(context, next) {
      const { call } = context;
      const body = call.body;
      // Markers are costgate's own: removed even when trimming is off, so the upstream never sees them.
      const hasMarker = call.operation.provider === 'openai' && call.rawBody !== undefined && call.rawBody.includes(MARKER_BYTES);
      if (!body || (!config.enabled && !hasMarker)) {
        await next();
        return;
      }
      const result = config.enabled ? await trim(context, body) : undefined;
      if (hasMarker && contextDocumentsFor(call)?.stripMarkers(body)) context.bodyChanged = true;
      if (result) context.bodyChanged = true;
      try {
        await next();
      } finally {
        if (result) account(context, result);
      }
    },
  };
}

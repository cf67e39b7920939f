import type { ProviderId } from '../../core/provider-id.ts';
import type { Usage } from '../../core/usage.ts';

/** An embedding call made upstream, to be recorded in the ledger as the cache's own cost. */
export interface EmbeddingCall {
  provider: ProviderId;
  endpoint: string;
  model: string;
  usage: Usage | undefined;
  status: number;
  latencyMs: number;
}

export interface EmbedOptions {
  signal?: AbortSignal;
  /** The caller's credential headers, used when the gateway holds no key of its own for the provider. */
  headers?: Record<string, string | string[] | undefined>;
}

export interface Embedding {
  /** Unit-length vectors, one per text; undefined for a text that has no embedding (no known words). */
  vectors: Array<Float32Array | undefined>;
  /** Upstream calls made (none for a local model): each becomes a ledger row. */
  calls: EmbeddingCall[];
}

/** Turns text into vectors. Vectors from different embedders never meet: `id` is part of every partition. */
export interface Embedder {
  /** Names the model and its dimensions, e.g. "openai:text-embedding-3-small:1536". */
  readonly id: string;
  embed(texts: readonly string[], options?: EmbedOptions): Promise<Embedding>;
}

import { z } from 'zod';

const exactMode = z.enum(['off', 'read-only', 'write-only', 'on']);
const semanticMode = z.enum(['off', 'shadow', 'on']);

/** Every field optional: a feature's policy overrides only what it names. */
export const responseCachePolicySchema = z.strictObject({
  /** Exact cache: off, read-only (serve, never store), write-only (store, never serve), on. */
  exact: exactMode.optional(),
  /** Semantic cache: off, shadow (learn and measure, never serve), on. */
  semantic: semanticMode.optional(),
  ttlSeconds: z.number().int().positive().optional(),
  /** Highest share of served semantic hits that may be wrong (0.02 = 2%). */
  errorBound: z.number().gt(0).max(0.5).optional(),
  /** Share of would-be semantic hits also sent upstream to check the cached answer. */
  shadowRate: z.number().min(0).max(1).optional(),
  /** Requests with a higher temperature are not matched semantically (unset = provider default 1). */
  maxTemperature: z.number().min(0).optional(),
  /** Match requests that mention account numbers, emails, amounts or personal details. */
  allowUserSpecific: z.boolean().optional(),
  /** Match later turns of a conversation, not only first questions. */
  allowMultiTurn: z.boolean().optional(),
  allowTools: z.boolean().optional(),
  allowMedia: z.boolean().optional(),
  /** Candidates less similar than this are neither served nor checked (bounds checking cost). */
  minSimilarity: z.number().min(-1).max(1).optional(),
});

const embedderSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('openai'),
    model: z.string().min(1).default('text-embedding-3-small'),
    dimensions: z.number().int().positive().optional(),
  }),
  z.strictObject({
    type: z.literal('bedrock-titan'),
    model: z.string().min(1).default('amazon.titan-embed-text-v2:0'),
    dimensions: z.union([z.literal(256), z.literal(512), z.literal(1024)]).default(1024),
  }),
  z.strictObject({
    type: z.literal('onnx'),
    /** A local model folder or a model id (downloaded on first use where the network allows). */
    model: z.string().min(1),
  }),
  z.strictObject({
    type: z.literal('glove'),
    /** Folder with vocab.txt, vectors.int8.bin, scales.f32le.bin. */
    path: z.string().min(1),
  }),
]);

export const RESPONSE_CACHE_POLICY_DEFAULTS = {
  exact: 'off',
  semantic: 'off',
  ttlSeconds: 86_400,
  errorBound: 0.02,
  shadowRate: 0.05,
  maxTemperature: 1,
  allowUserSpecific: false,
  allowMultiTurn: false,
  allowTools: false,
  allowMedia: false,
  minSimilarity: 0.5,
} as const;

const SEMANTIC_DEFAULTS = {
  maxEntries: 100_000,
  embedTimeoutMs: 2_000,
  answerAgreement: 0.9,
  confidence: 0.95,
};

export const responseCacheConfigSchema = z
  .strictObject({
    /** Bound on cached response bytes (bodies, recorded streams, vectors); least recently used go first. */
    maxBytes: z.number().int().positive().default(256 * 1024 * 1024),
    /** Larger responses are not cached. */
    maxEntryBytes: z.number().int().positive().default(8 * 1024 * 1024),
    /** Keep entries under the data folder so they survive restarts. */
    persist: z.boolean().default(true),
    default: responseCachePolicySchema.default({}),
    features: z.record(z.string(), responseCachePolicySchema).default({}),
    semantic: z
      .strictObject({
        embedder: embedderSchema.optional(),
        maxEntries: z.number().int().positive().default(SEMANTIC_DEFAULTS.maxEntries),
        embedTimeoutMs: z.number().int().positive().default(SEMANTIC_DEFAULTS.embedTimeoutMs),
        /** Cosine similarity of two answers' embeddings above which a shadow check calls them the same. */
        answerAgreement: z.number().min(0).max(1).default(SEMANTIC_DEFAULTS.answerAgreement),
        /** Confidence of the statistical test behind each learned threshold. */
        confidence: z.number().gt(0.5).lt(1).default(SEMANTIC_DEFAULTS.confidence),
      })
      .default(SEMANTIC_DEFAULTS),
  })
  .superRefine((config, context) => {
    const semanticOn = [config.default, ...Object.values(config.features)].some((policy) => policy.semantic !== undefined && policy.semantic !== 'off');
    if (semanticOn && !config.semantic.embedder) {
      context.addIssue({ code: 'custom', path: ['semantic', 'embedder'], message: 'a semantic cache policy needs an embedder (openai, bedrock-titan, onnx or glove)' });
    }
  })
  .default({
    maxBytes: 256 * 1024 * 1024,
    maxEntryBytes: 8 * 1024 * 1024,
    persist: true,
    default: {},
    features: {},
    semantic: SEMANTIC_DEFAULTS,
  });

export type ResponseCacheConfig = z.infer<typeof responseCacheConfigSchema>;
export type ResponseCachePolicyConfig = z.infer<typeof responseCachePolicySchema>;
export type EmbedderConfig = z.infer<typeof embedderSchema>;

import { z } from 'zod';

const contextTrimEntry = z.strictObject({
  /** Set false to leave one feature's documents alone. */
  enabled: z.boolean().optional(),
  /** Keep at most this many documents, the most relevant first. */
  topK: z.number().int().positive().optional(),
  /** Keep documents, most relevant first, while their estimated tokens fit this budget. */
  maxTokens: z.number().int().positive().optional(),
  /** Never keep fewer than this many (default 1), whatever the budget. */
  minDocuments: z.number().int().nonnegative().optional(),
  reranker: z.enum(['bm25', 'cross-encoder']).optional(),
});

export const contextTrimConfigSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** For `reranker: cross-encoder`: a @huggingface/transformers model id or local folder, loaded on first use. */
  crossEncoder: z
    .strictObject({
      model: z.string().min(1).default('Xenova/ms-marco-MiniLM-L-6-v2'),
      /** Only local files (no download at run time); the default. */
      localFilesOnly: z.boolean().default(true),
    })
    .optional(),
  default: contextTrimEntry.default({}),
  features: z.record(z.string(), contextTrimEntry).default({}),
});

export type ContextTrimConfig = z.infer<typeof contextTrimConfigSchema>;
export type ContextTrimEntry = z.infer<typeof contextTrimEntry>;

export const CONTEXT_TRIM_DEFAULTS: ContextTrimConfig = { enabled: false, default: {}, features: {} };

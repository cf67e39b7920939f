import { bm25Scores } from './bm25.ts';

/** Scores documents against a question; higher is more relevant. Scores compare within one call only. */
export interface Reranker {
  readonly name: string;
  score(query: string, documents: readonly string[]): Promise<number[]>;
}

export const bm25Reranker: Reranker = {
  name: 'bm25',
  score: async (query, documents) => bm25Scores(query, documents),
};

/**
 * The part of @huggingface/transformers a cross-encoder needs, typed here so the package stays
 * optional: it is not a dependency (its ONNX runtime downloads native binaries at install time),
 * and is loaded only when a feature asks for `reranker: cross-encoder`.
 */
export interface TransformersModule {
  env?: { allowRemoteModels?: boolean };
  AutoTokenizer: { from_pretrained(model: string, options?: Record<string, unknown>): Promise<CrossEncoderTokenizer> };
  AutoModelForSequenceClassification: { from_pretrained(model: string, options?: Record<string, unknown>): Promise<CrossEncoderModel> };
}

export type CrossEncoderTokenizer = (texts: string[], options: { text_pair: string[]; padding: boolean; truncation: boolean }) => unknown;
export type CrossEncoderModel = (inputs: unknown) => Promise<{ logits: { data: ArrayLike<number>; dims: readonly number[] } }>;

export interface CrossEncoderOptions {
  /** Model id or local folder, e.g. Xenova/ms-marco-MiniLM-L-6-v2 (a single-logit relevance head). */
  model: string;
  /** Refuse to download at run time; the model must already be on disk (default true). */
  localFilesOnly?: boolean;
  /** How to load the library; tests pass a fake. */
  load?: () => Promise<TransformersModule>;
}

async function importTransformers(): Promise<TransformersModule> {
  // A variable specifier keeps TypeScript and bundlers from requiring the optional package.
  const specifier = '@huggingface/transformers';
  return (await import(specifier)) as TransformersModule;
}

/**
 * A cross-encoder reranker over @huggingface/transformers, loaded lazily on the first call and
 * shared after. Loading fails (and the caller falls back to BM25) when the package or the model
 * files are missing.
 */
export function createCrossEncoderReranker(options: CrossEncoderOptions): Reranker & { ready(): Promise<void> } {
  let loading: Promise<{ tokenizer: CrossEncoderTokenizer; model: CrossEncoderModel }> | undefined;
  const localFilesOnly = options.localFilesOnly ?? true;
  function load() {
    loading ??= (async () => {
      const transformers = await (options.load ?? importTransformers)();
      if (transformers.env && localFilesOnly) transformers.env.allowRemoteModels = false;
      const settings = { local_files_only: localFilesOnly };
      const [tokenizer, model] = await Promise.all([
        transformers.AutoTokenizer.from_pretrained(options.model, settings),
        transformers.AutoModelForSequenceClassification.from_pretrained(options.model, settings),
      ]);
      return { tokenizer, model };
    })();
    return loading;
  }
  return {
    name: `cross-encoder:${options.model}`,
    async ready() {
      await load();
    },
    async score(query, documents) {
      if (documents.length === 0) return [];
      const { tokenizer, model } = await load();
      const inputs = tokenizer(new Array<string>(documents.length).fill(query), { text_pair: [...documents], padding: true, truncation: true });
      const { logits } = await model(inputs);
      // One relevance logit per pair; with two labels, the "relevant" one is the last.
      const width = logits.dims.at(-1) ?? 1;
      return documents.map((_, index) => Number(logits.data[index * width + (width - 1)] ?? 0));
    },
  };
}

import type { Embedder, Embedding } from './embedder.ts';
import { normalize } from './vector-index.ts';

/** The part of @huggingface/transformers used here. */
interface FeatureExtractor {
  (texts: string[], options: { pooling: 'mean'; normalize: boolean }): Promise<{ data: Float32Array; dims: number[] }>;
}
interface TransformersModule {
  pipeline(task: 'feature-extraction', model: string, options?: Record<string, unknown>): Promise<FeatureExtractor>;
  env: { allowRemoteModels: boolean; localModelPath?: string };
}

// A variable, so the type checker and bundlers do not require the optional package.
const TRANSFORMERS = '@huggingface/transformers';

/**
 * A local sentence-embedding model (ONNX) through @huggingface/transformers: a model folder on
 * disk, or a model id that the library downloads on first use where the network allows. The
 * package is optional (it pulls in onnxruntime-node): install it to use this embedder. It is
 * loaded on the first embedding, never at start-up.
 */
export class OnnxEmbedder implements Embedder {
  readonly id: string;
  private extractor: Promise<FeatureExtractor> | undefined;

  constructor(
    private readonly model: string,
    private readonly load: () => Promise<TransformersModule> = () => import(TRANSFORMERS) as Promise<TransformersModule>,
  ) {
    this.id = `onnx:${model}`;
  }

  private extractorFor(): Promise<FeatureExtractor> {
    this.extractor ??= this.load()
      .catch((error: unknown) => {
        throw new Error(`the onnx embedder needs the optional package ${TRANSFORMERS} (npm install ${TRANSFORMERS}): ${(error as Error).message}`);
      })
      .then((transformers) => {
        const local = this.model.startsWith('/') || this.model.startsWith('.');
        return transformers.pipeline('feature-extraction', this.model, local ? { local_files_only: true } : {});
      });
    // A failed load is retried on the next call rather than remembered forever.
    this.extractor.catch(() => {
      this.extractor = undefined;
    });
    return this.extractor;
  }

  async embed(texts: readonly string[]): Promise<Embedding> {
    const extractor = await this.extractorFor();
    const output = await extractor([...texts], { pooling: 'mean', normalize: true });
    const dimensions = output.dims.at(-1) ?? 0;
    const vectors = texts.map((_text, row) => {
      const vector = output.data.slice(row * dimensions, (row + 1) * dimensions);
      return normalize(vector) ? vector : undefined;
    });
    return { vectors, calls: [] };
  }
}

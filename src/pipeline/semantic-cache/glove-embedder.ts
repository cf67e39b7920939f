import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Embedder, Embedding } from './embedder.ts';
import { normalize } from './vector-index.ts';

/**
 * Averaged word vectors from an int8-quantized GloVe table: a deterministic, offline embedder for
 * evaluation and tests. Folder layout: vocab.txt (one word per line, row order), vectors.int8.bin
 * (rows x dimensions signed bytes), scales.f32le.bin (one little-endian float32 per row);
 * vector[r][d] = int8[r*D + d] * scale[r] / 127. Weak on paraphrases (order-blind, bag of words).
 */
export class GloveEmbedder implements Embedder {
  readonly id: string;
  readonly dimensions: number;
  private readonly rows = new Map<string, number>();
  private readonly vectors: Int8Array;
  private readonly scales: Float32Array;

  constructor(directory: string) {
    const words = readFileSync(join(directory, 'vocab.txt'), 'utf8').split('\n');
    if (words.at(-1) === '') words.pop();
    words.forEach((word, row) => {
      if (!this.rows.has(word)) this.rows.set(word, row);
    });
    const vectorBytes = readFileSync(join(directory, 'vectors.int8.bin'));
    const scaleBytes = readFileSync(join(directory, 'scales.f32le.bin'));
    if (words.length === 0 || vectorBytes.length % words.length !== 0 || scaleBytes.length !== words.length * 4) {
      throw new Error(`${directory}: vocab.txt, vectors.int8.bin and scales.f32le.bin do not agree in size`);
    }
    this.dimensions = vectorBytes.length / words.length;
    this.vectors = new Int8Array(vectorBytes.buffer, vectorBytes.byteOffset, vectorBytes.length);
    this.scales = new Float32Array(words.length);
    for (let row = 0; row < words.length; row += 1) this.scales[row] = scaleBytes.readFloatLE(row * 4);
    this.id = `glove:${words.length}x${this.dimensions}`;
  }

  embedOne(text: string): Float32Array | undefined {
    const sum = new Float32Array(this.dimensions);
    let found = 0;
    for (const token of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
      const row = this.rows.get(token);
      if (row === undefined) continue;
      const scale = (this.scales[row] as number) / 127;
      const offset = row * this.dimensions;
      for (let dimension = 0; dimension < this.dimensions; dimension += 1) {
        sum[dimension] = (sum[dimension] as number) + (this.vectors[offset + dimension] as number) * scale;
      }
      found += 1;
    }
    return found > 0 && normalize(sum) ? sum : undefined;
  }

  async embed(texts: readonly string[]): Promise<Embedding> {
    return { vectors: texts.map((text) => this.embedOne(text)), calls: [] };
  }
}

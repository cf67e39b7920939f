import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '../seeded-random.ts';

export { seededRandom };

export const TINY_VOCABULARY = [
  'what', 'is', 'your', 'the', 'refund', 'policy', 'tell', 'me', 'about', 'explain', 'please', 'how', 'do', 'i',
  'get', 'a', 'can', 'turn', 'on', 'off', 'alarm', 'weather', 'in', 'paris', 'london', 'today', 'shipping',
  'cost', 'does', 'much', 'to', 'order', 'my', 'email', 'not', 'return', 'an', 'item', 'items', 'for', 'days',
  'we', 'offer', 'within', 'refunds', 'are', 'issued', 'sunny', 'rainy', 'it', 'will', 'be', 'and',
];

/**
 * Writes a GloVe-format folder (vocab.txt, vectors.int8.bin, scales.f32le.bin) with seeded
 * random vectors: a real file for the embedder to read, small enough for any test.
 */
export function writeTinyGlove(directory = mkdtempSync(join(tmpdir(), 'costgate-glove-')), words = TINY_VOCABULARY, dimensions = 24, seed = 7): string {
  mkdirSync(directory, { recursive: true });
  const random = seededRandom(seed);
  const vectors = Buffer.alloc(words.length * dimensions);
  const scales = Buffer.alloc(words.length * 4);
  words.forEach((_word, row) => {
    for (let dimension = 0; dimension < dimensions; dimension += 1) vectors.writeInt8(Math.round(random() * 254 - 127), row * dimensions + dimension);
    scales.writeFloatLE(0.5 + random(), row * 4);
  });
  writeFileSync(join(directory, 'vocab.txt'), `${words.join('\n')}\n`);
  writeFileSync(join(directory, 'vectors.int8.bin'), vectors);
  writeFileSync(join(directory, 'scales.f32le.bin'), scales);
  return directory;
}

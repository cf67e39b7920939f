/**
 * Text features for the routing classifier: hashed word uni/bigrams and character 3-5-grams, each
 * weighted by TF-IDF and L2-normalised per block, plus a few prompt statistics (standardised).
 * Hashing keeps the model a fixed size whatever the vocabulary, and nothing of the prompt text is
 * stored in the saved model beyond hashed indices.
 */

export interface SparseRow {
  indices: Int32Array;
  values: Float32Array;
}

export interface FeatureSpaceOptions {
  /** log2 of the hashed word space and of the character space. */
  wordBits: number;
  charBits: number;
}

export const DEFAULT_FEATURE_OPTIONS: FeatureSpaceOptions = { wordBits: 17, charBits: 17 };

const STAT_NAMES = [
  'log_chars',
  'log_words',
  'log_lines',
  'digit_share',
  'upper_share',
  'punctuation_share',
  'non_ascii_share',
  'mean_word_length',
  'question_marks',
  'code_markers',
  'math_symbols',
  'enumerated_lines',
] as const;

export const STAT_COUNT = STAT_NAMES.length;

/** FNV-1a over UTF-16 code units of text[start, end), continuing from `seed`. */
function fnv(text: string, start: number, end: number, seed = 0x811c9dc5): number {
  let hash = seed;
  for (let index = start; index < end; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function mix(first: number, second: number): number {
  let hash = Math.imul(first ^ 0x9e3779b9, 0x85ebca6b) ^ second;
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}

const WORD = /[\p{L}\p{N}_]+/gu;

/** Raw term counts of one text in the word space [0, 2^wordBits) and the char space after it. */
export function termCounts(text: string, options: FeatureSpaceOptions): { words: Map<number, number>; chars: Map<number, number> } {
  const lower = text.toLowerCase();
  const wordMask = (1 << options.wordBits) - 1;
  const charMask = (1 << options.charBits) - 1;
  const words = new Map<number, number>();
  const chars = new Map<number, number>();
  const add = (map: Map<number, number>, key: number) => map.set(key, (map.get(key) ?? 0) + 1);
  let previous: number | undefined;
  for (const match of lower.matchAll(WORD)) {
    const token = match[0];
    const hash = fnv(token, 0, token.length);
    add(words, hash & wordMask);
    if (previous !== undefined) add(words, mix(previous, hash) & wordMask);
    previous = hash;
    // Character n-grams inside word boundaries (padded by spaces), as char_wb analysers do.
    const padded = ` ${token} `;
    for (let size = 3; size <= 5; size += 1) {
      for (let start = 0; start + size <= padded.length; start += 1) {
        add(chars, fnv(padded, start, start + size, 0x811c9dc5 ^ size) & charMask);
      }
    }
  }
  return { words, chars };
}

/** Statistics that say how long and what kind of text a prompt is, before scaling. */
export function promptStatistics(text: string): Float64Array {
  const length = Math.max(text.length, 1);
  let digits = 0;
  let upper = 0;
  let punctuation = 0;
  let nonAscii = 0;
  let math = 0;
  let questions = 0;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code >= 48 && code <= 57) digits += 1;
    else if (code >= 65 && code <= 90) upper += 1;
    else if (code > 127) nonAscii += 1;
    else if (code === 63) questions += 1;
    if ('+-*/=^<>%$\\'.includes(text[index] ?? '')) math += 1;
    else if (code < 128 && /[!-/:-@[-`{-~]/.test(text[index] ?? '')) punctuation += 1;
  }
  const words = text.match(WORD) ?? [];
  const lines = text.split('\n');
  const wordLength = words.reduce((sum, word) => sum + word.length, 0) / Math.max(words.length, 1);
  const codeMarkers = (text.match(/```|def |function |class |return |;\s*$|\{\s*$/gm) ?? []).length;
  const enumerated = lines.filter((line) => /^\s*(\(?[A-Za-z0-9]{1,2}[.)]|[-*•])\s+/.test(line)).length;
  return Float64Array.from([
    Math.log1p(text.length),
    Math.log1p(words.length),
    Math.log1p(lines.length),
    digits / length,
    upper / length,
    punctuation / length,
    nonAscii / length,
    wordLength,
    Math.log1p(questions),
    Math.log1p(codeMarkers),
    math / length,
    Math.log1p(enumerated),
  ]);
}

/** What the featurizer learned from training prompts; saved in router.json. */
export interface FittedFeatures {
  options: FeatureSpaceOptions;
  documents: number;
  /** Sparse document frequencies: [index, df] pairs, word space then char space (offset). */
  documentFrequencies: Array<[number, number]>;
  statMeans: number[];
  statScales: number[];
  /** Dimension of an optional dense embedding appended after the statistics; 0 when unused. */
  embeddingDimensions: number;
}

export interface Featurizer {
  readonly fitted: FittedFeatures;
  readonly dimensions: number;
  /** Sparse row for one prompt; `embedding` is required when the model was trained with one. */
  transform(text: string, embedding?: ArrayLike<number>): SparseRow;
}

export function fitFeatures(
  texts: readonly string[],
  options: FeatureSpaceOptions = DEFAULT_FEATURE_OPTIONS,
  embeddingDimensions = 0,
): FittedFeatures {
  const wordSize = 1 << options.wordBits;
  const df = new Map<number, number>();
  const sums = new Float64Array(STAT_COUNT);
  const squares = new Float64Array(STAT_COUNT);
  for (const text of texts) {
    const { words, chars } = termCounts(text, options);
    for (const key of words.keys()) df.set(key, (df.get(key) ?? 0) + 1);
    for (const key of chars.keys()) df.set(wordSize + key, (df.get(wordSize + key) ?? 0) + 1);
    const stats = promptStatistics(text);
    for (let index = 0; index < STAT_COUNT; index += 1) {
      const value = stats[index] ?? 0;
      sums[index] = (sums[index] ?? 0) + value;
      squares[index] = (squares[index] ?? 0) + value * value;
    }
  }
  const count = Math.max(texts.length, 1);
  const statMeans = Array.from(sums, (sum) => sum / count);
  const statScales = Array.from(squares, (square, index) => {
    const mean = statMeans[index] ?? 0;
    const variance = square / count - mean * mean;
    return variance > 1e-12 ? Math.sqrt(variance) : 1;
  });
  // Terms seen in one training prompt only carry no generalisable signal and would bloat the model.
  const documentFrequencies = [...df].filter(([, frequency]) => frequency >= 2).sort((a, b) => a[0] - b[0]);
  return { options, documents: texts.length, documentFrequencies, statMeans, statScales, embeddingDimensions };
}

export function createFeaturizer(fitted: FittedFeatures): Featurizer {
  const { options } = fitted;
  const wordSize = 1 << options.wordBits;
  const charSize = 1 << options.charBits;
  const statOffset = wordSize + charSize;
  const embeddingOffset = statOffset + STAT_COUNT;
  const idf = new Map<number, number>();
  for (const [index, frequency] of fitted.documentFrequencies) {
    idf.set(index, Math.log((1 + fitted.documents) / (1 + frequency)) + 1);
  }
  const dimensions = embeddingOffset + fitted.embeddingDimensions;

  function block(counts: Map<number, number>, offset: number, indices: number[], values: number[]): void {
    const start = indices.length;
    let norm = 0;
    for (const [key, count] of counts) {
      const weight = idf.get(offset + key);
      if (weight === undefined) continue;
      const value = (1 + Math.log(count)) * weight;
      indices.push(offset + key);
      values.push(value);
      norm += value * value;
    }
    if (norm > 0) {
      const scale = 1 / Math.sqrt(norm);
      for (let index = start; index < values.length; index += 1) values[index] = (values[index] ?? 0) * scale;
    }
  }

  return {
    fitted,
    dimensions,
    transform(text, embedding) {
      const { words, chars } = termCounts(text, options);
      const indices: number[] = [];
      const values: number[] = [];
      block(words, 0, indices, values);
      block(chars, wordSize, indices, values);
      const stats = promptStatistics(text);
      for (let index = 0; index < STAT_COUNT; index += 1) {
        indices.push(statOffset + index);
        values.push(((stats[index] ?? 0) - (fitted.statMeans[index] ?? 0)) / (fitted.statScales[index] ?? 1));
      }
      if (fitted.embeddingDimensions > 0) {
        if (!embedding || embedding.length !== fitted.embeddingDimensions) {
          throw new Error(`this router needs a ${fitted.embeddingDimensions}-dimension prompt embedding`);
        }
        for (let index = 0; index < fitted.embeddingDimensions; index += 1) {
          indices.push(embeddingOffset + index);
          values.push(embedding[index] ?? 0);
        }
      }
      return { indices: Int32Array.from(indices), values: Float32Array.from(values) };
    },
  };
}

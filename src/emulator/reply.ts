import { createHash } from 'node:crypto';
import { countTokens } from './tokens.ts';

/**
 * Deterministic replies: real words picked by a PRNG seeded from the prompt, so the same prompt always
 * gets the same answer and a reply of N tokens tokenizes back to exactly N tokens.
 */

const CANDIDATE_WORDS = (
  'the a cost token cache price model gateway request reply budget ledger every each first last ' +
  'user team and or but so then when because while before after with without from into over under ' +
  'about through between against during report saves spends counts keeps sends reads writes checks ' +
  'moves holds finds makes takes gives shows tells brings runs turns starts ends opens closes ' +
  'small large fast slow clear simple careful early late new old good better best short long ' +
  'prompt answer question number value total share rate limit hour minute day week month year ' +
  'system output input data record result plan policy rule route path call stream batch job ' +
  'time work place part case point group world life hand fact idea way thing people child ' +
  'water light night story table list field line page word book name state level area power'
).split(' ');

function isSingleToken(text: string): boolean {
  return countTokens(text) === 1;
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

// Filtered once at load so that every piece below is provably one token, whatever the tokenizer version.
const WORDS = CANDIDATE_WORDS.filter(
  (word) => isSingleToken(` ${word}`) && isSingleToken(capitalize(word)) && isSingleToken(` ${capitalize(word)}`),
);

export type Random = () => number;

/** mulberry32: tiny, fast and good enough to pick words; returns values in [0, 1). */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed from any number of strings (a prompt's blocks, in order). */
export function seedFrom(parts: Iterable<string>): number {
  const hash = createHash('sha1');
  for (const part of parts) hash.update(part).update('\u0000');
  return hash.digest().readUInt32LE(0);
}

function pick(random: Random): string {
  return WORDS[Math.floor(random() * WORDS.length)] ?? 'the';
}

/**
 * Pieces that each tokenize to exactly one token: sentences of capitalized first words, lower-case
 * words and a closing period. Streaming sends one piece per delta, like a real token stream.
 */
export function replyPieces(seed: number, tokenCount: number): string[] {
  const random = createRandom(seed);
  const pieces: string[] = [];
  let sentenceLength = 0;
  let sentenceTarget = 0;
  while (pieces.length < tokenCount) {
    if (sentenceLength === 0) {
      const word = capitalize(pick(random));
      pieces.push(pieces.length === 0 ? word : ` ${word}`);
      sentenceTarget = 5 + Math.floor(random() * 9);
      sentenceLength = 1;
    } else if (sentenceLength >= sentenceTarget) {
      pieces.push('.');
      sentenceLength = 0;
    } else {
      pieces.push(` ${pick(random)}`);
      sentenceLength += 1;
    }
  }
  return pieces;
}

/** A block repeated to `tokenCount` pieces; each repetition starts with a space so pieces stay one token. */
function loopPieces(block: string[], tokenCount: number): string[] {
  const repeated = block.map((piece, index) => (index === 0 && !piece.startsWith(' ') ? ` ${piece}` : piece));
  const pieces: string[] = [];
  for (let index = 0; index < tokenCount; index += 1) pieces.push((index < block.length ? block : repeated)[index % block.length] ?? ' the');
  return pieces;
}

export interface OutputPlan {
  /** Visible text, one token per piece. */
  pieces: string[];
  text: string;
  visibleTokens: number;
  reasoningTokens: number;
  /** Visible + reasoning: what the provider bills as output. */
  outputTokens: number;
  /** True when the output cap cut the reply short. */
  truncated: boolean;
}

export interface OutputRequest {
  seed: number;
  wantedTokens: number;
  /** When set, the reply is its first this-many tokens repeated over and over (a model stuck in a loop). */
  loopTokens?: number | undefined;
  /** Hidden reasoning the model spends before answering; it counts against the cap first. */
  reasoningTokens?: number;
  maxTokens?: number | undefined;
  /** The request asked for a JSON format: the reply is one JSON object of `wantedTokens` tokens. */
  json?: boolean | undefined;
}

/** `{"answer":"` before the words and `"}` after them, one token each (o200k). */
const JSON_OPEN = ['{"', 'answer', '":"'];
const JSON_CLOSE = '"}';

/**
 * The visible reply as a JSON object: a cap that cuts it leaves the object unclosed (invalid JSON),
 * as a real cut-short structured answer is. Quotes never occur in the words, so the object parses.
 */
function jsonPieces(body: (count: number) => string[], visibleTokens: number, complete: boolean): string[] {
  const words = Math.max(0, visibleTokens - JSON_OPEN.length - (complete ? 1 : 0));
  const pieces = [...JSON_OPEN, ...body(words), ...(complete ? [JSON_CLOSE] : [])];
  return pieces.slice(0, visibleTokens);
}

export function planOutput(request: OutputRequest): OutputPlan {
  const wantedReasoning = request.reasoningTokens ?? 0;
  const cap = request.maxTokens ?? Number.POSITIVE_INFINITY;
  const reasoningTokens = Math.min(wantedReasoning, cap);
  const visibleTokens = Math.max(0, Math.min(request.wantedTokens, cap - reasoningTokens));
  const loopLength = request.loopTokens !== undefined && request.loopTokens > 0 ? request.loopTokens : undefined;
  const body = (count: number) => {
    const loop = loopLength === undefined ? undefined : Math.min(loopLength, count);
    return loop === undefined ? replyPieces(request.seed, count) : loopPieces(replyPieces(request.seed, loop), count);
  };
  const truncated = wantedReasoning + request.wantedTokens > cap;
  const pieces = request.json ? jsonPieces(body, visibleTokens, !truncated) : body(visibleTokens);
  return {
    pieces,
    text: pieces.join(''),
    visibleTokens,
    reasoningTokens,
    outputTokens: visibleTokens + reasoningTokens,
    truncated,
  };
}

/** A unit-length vector that depends only on the text, for fake embeddings. */
export function embeddingVector(text: string, dimensions: number, normalize = true): Float32Array {
  const random = createRandom(seedFrom([text]));
  const vector = new Float32Array(dimensions);
  let sumOfSquares = 0;
  for (let index = 0; index < dimensions; index += 1) {
    const value = random() * 2 - 1;
    vector[index] = value;
    sumOfSquares += value * value;
  }
  if (normalize && sumOfSquares > 0) {
    const scale = 1 / Math.sqrt(sumOfSquares);
    for (let index = 0; index < dimensions; index += 1) vector[index] = (vector[index] ?? 0) * scale;
  }
  return vector;
}

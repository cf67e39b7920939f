/**
 * Okapi BM25 over a handful of retrieved documents, scored against the user's question. The
 * documents are their own corpus (document frequencies come from them), which is what a reranker
 * needs: which of these chunks share the question's rarer words.
 */

const STOPWORDS = new Set(
  (
    'a an and are as at be been but by can could did do does for from had has have how i if in into is it its ' +
    'me my no not of on or our so than that the their them then there these they this to too was we were what ' +
    'when where which who whom why will with would you your about after all also any because before between both ' +
    'each few more most other over same should some such through under until up very via while'
  ).split(' '),
);

/** Light suffix stripping so "caches", "cached" and "caching" meet; not a full stemmer. */
function stem(word: string): string {
  if (word.length > 5 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 5 && word.endsWith('ing')) return word.slice(0, -3);
  if (word.length > 4 && word.endsWith('ed')) return word.slice(0, -2);
  if (word.length > 4 && word.endsWith('es')) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

export function terms(text: string): string[] {
  const words = text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u);
  const result: string[] = [];
  for (const word of words) {
    if (word.length === 0 || STOPWORDS.has(word)) continue;
    if (word.length < 2 && !/\d/.test(word)) continue;
    result.push(stem(word));
  }
  return result;
}

export interface Bm25Options {
  k1?: number;
  b?: number;
}

export function bm25Scores(query: string, documents: readonly string[], options: Bm25Options = {}): number[] {
  const k1 = options.k1 ?? 1.2;
  const b = options.b ?? 0.75;
  const queryTerms = [...new Set(terms(query))];
  const frequencies = documents.map((document) => {
    const counts = new Map<string, number>();
    let length = 0;
    for (const term of terms(document)) {
      counts.set(term, (counts.get(term) ?? 0) + 1);
      length += 1;
    }
    return { counts, length };
  });
  const count = documents.length;
  const averageLength = frequencies.reduce((sum, { length }) => sum + length, 0) / Math.max(1, count) || 1;
  const idf = new Map<string, number>();
  for (const term of queryTerms) {
    const containing = frequencies.filter(({ counts }) => counts.has(term)).length;
    // The "+1" form stays positive even for a term every document contains.
    idf.set(term, Math.log(1 + (count - containing + 0.5) / (containing + 0.5)));
  }
  return frequencies.map(({ counts, length }) => {
    let score = 0;
    for (const term of queryTerms) {
      const frequency = counts.get(term) ?? 0;
      if (frequency === 0) continue;
      score += (idf.get(term) ?? 0) * ((frequency * (k1 + 1)) / (frequency + k1 * (1 - b + (b * length) / averageLength)));
    }
    return score;
  });
}

export interface SelectionLimits {
  topK: number | undefined;
  maxTokens: number | undefined;
  minDocuments: number;
}

export interface Candidate {
  score: number;
  tokens: number;
  pinned: boolean;
}

/**
 * Which documents to keep: pinned ones always, then the best-scored while both the top-k and the
 * token budget allow, and never fewer than minDocuments. Ties go to the earlier document. Returns
 * positions in their original order, so the prompt keeps the client's order (and its cache prefix).
 */
export function selectDocuments(candidates: readonly Candidate[], limits: SelectionLimits): number[] {
  const kept = new Set<number>();
  let count = 0;
  let tokens = 0;
  candidates.forEach((candidate, index) => {
    if (!candidate.pinned) return;
    kept.add(index);
    count += 1;
    tokens += candidate.tokens;
  });
  const ranked = candidates
    .map((candidate, index) => ({ ...candidate, index }))
    .filter((candidate) => !candidate.pinned)
    .sort((a, b) => b.score - a.score || a.index - b.index);
  for (const candidate of ranked) {
    const underMinimum = count < limits.minDocuments;
    const fitsCount = limits.topK === undefined || count < limits.topK;
    const fitsBudget = limits.maxTokens === undefined || tokens + candidate.tokens <= limits.maxTokens;
    if (!underMinimum && !(fitsCount && fitsBudget)) continue;
    kept.add(candidate.index);
    count += 1;
    tokens += candidate.tokens;
  }
  return [...kept].sort((a, b) => a - b);
}

/** Tokens of a document, estimated at four characters a token: no tokenizer runs on the request path. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

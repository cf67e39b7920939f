import type { Outcome } from '../../core/outcome.ts';
import type { RoutingExample } from './routing-dataset.ts';

/**
 * Training examples from outcomes stored with the ledger. Feedback gives the served model's score
 * for a prompt; a shadow comparison gives the cheap model's grade against a stronger model's answer,
 * and the stronger model, being the reference, counts as answering well (score 1). Several outcomes
 * for the same call and model are averaged. Outcomes stored without a prompt cannot be used.
 */
export function examplesFromOutcomes(outcomes: readonly Outcome[]): { examples: RoutingExample[]; skipped: number } {
  const byRequest = new Map<string, { prompt: string; feature: string | undefined; scores: Map<string, number[]> }>();
  let skipped = 0;
  for (const outcome of outcomes) {
    if (!outcome.prompt || !outcome.model) {
      skipped += 1;
      continue;
    }
    let entry = byRequest.get(outcome.requestId);
    if (!entry) {
      entry = { prompt: outcome.prompt, feature: outcome.feature, scores: new Map() };
      byRequest.set(outcome.requestId, entry);
    }
    const add = (model: string, score: number) => {
      const list = entry.scores.get(model) ?? [];
      list.push(score);
      entry.scores.set(model, list);
    };
    add(outcome.model, outcome.score);
    if (outcome.source === 'shadow' && outcome.referenceModel) add(outcome.referenceModel, 1);
  }
  const examples: RoutingExample[] = [];
  for (const entry of byRequest.values()) {
    const example: RoutingExample = {
      prompt: entry.prompt,
      outcomes: Object.fromEntries([...entry.scores].map(([model, scores]) => [model, scores.reduce((sum, score) => sum + score, 0) / scores.length])),
    };
    if (entry.feature !== undefined) example.group = entry.feature;
    examples.push(example);
  }
  return { examples, skipped };
}

/**
 * How well one call was answered, learned after the fact: from the application or its users
 * (feedback) or from a shadow call to a stronger model graded by a judge. Outcomes are stored with
 * the ledger and become training data for the routing classifier.
 */
export type OutcomeSource = 'feedback' | 'shadow';

export interface Outcome {
  /** The call this outcome is about (its x-costgate-request-id). */
  requestId: string;
  /** Epoch ms when the outcome was recorded. */
  time: number;
  source: OutcomeSource;
  /** The model whose answer was graded (the served model). */
  model: string | undefined;
  /** 0 (bad) .. 1 (good). Thumbs up = 1, thumbs down = 0. */
  score: number;
  feature: string | undefined;
  /** The prompt the classifier reads, when the gateway kept it (router capturePrompts). */
  prompt: string | undefined;
  /** Shadow outcomes: the stronger model the answer was compared against. */
  referenceModel?: string;
  /** Free-form context: a comment, the judge model, the shadow call's cost. */
  detail?: Record<string, unknown>;
}

export interface OutcomeQuery {
  from?: number;
  to?: number;
  source?: OutcomeSource;
  feature?: string;
  /** Keep only outcomes that carry a prompt (training data). */
  withPrompt?: boolean;
  limit?: number;
}

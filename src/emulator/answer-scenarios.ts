import type { OutputPlan } from './reply.ts';

/**
 * Answer-quality scenarios, picked like the failure scenarios by a substring of the model id, so
 * that routing tests can have a tier that answers well or badly on purpose:
 * - `emu-unsure`: the answer is "I don't know."
 * - `emu-confidence-<0..100>`: the answer ends with a line "Confidence: 0.NN"
 * - `emu-json` / `emu-bad-json`: the answer is a JSON object {"answer": "..."} / the same cut short
 * - `emu-low-logprobs`: requested token log-probabilities are low (about 0.1 per token) instead of
 *   high (about 0.97)
 */
export interface AnswerScenario {
  unsure: boolean;
  confidence: number | undefined;
  json: 'valid' | 'invalid' | undefined;
  lowLogprobs: boolean;
}

const CONFIDENCE = /emu-confidence-(\d{1,3})/;

export function readAnswerScenario(model: string | undefined): AnswerScenario {
  const text = model ?? '';
  const confidence = CONFIDENCE.exec(text)?.[1];
  return {
    unsure: text.includes('emu-unsure'),
    confidence: confidence === undefined ? undefined : Math.min(Number(confidence), 100) / 100,
    json: text.includes('emu-bad-json') ? 'invalid' : text.includes('emu-json') ? 'valid' : undefined,
    lowLogprobs: text.includes('emu-low-logprobs'),
  };
}

/** Rewrites the visible answer for the scenario; counts follow the pieces (one token each). */
export function shapeAnswer(plan: OutputPlan, model: string | undefined): OutputPlan {
  const scenario = readAnswerScenario(model);
  if (!scenario.unsure && scenario.confidence === undefined && scenario.json === undefined) return plan;
  let pieces = plan.pieces;
  if (scenario.unsure) pieces = ['I', ' don', "'t", ' know', '.'];
  if (scenario.json) {
    const words = pieces.map((piece) => piece.replace(/"/g, ''));
    pieces = ['{"', 'answer', '":"', ...words, ...(scenario.json === 'valid' ? ['"}'] : [])];
  }
  if (scenario.confidence !== undefined) pieces = [...pieces, '\n', 'Confidence', ':', ' ', scenario.confidence.toFixed(2)];
  const visibleTokens = pieces.length;
  return { ...plan, pieces, text: pieces.join(''), visibleTokens, outputTokens: visibleTokens + plan.reasoningTokens };
}

/** OpenAI `logprobs.content` entries for the pieces of an answer. */
export function tokenLogprobs(pieces: readonly string[], model: string | undefined): Array<Record<string, unknown>> {
  const low = readAnswerScenario(model).lowLogprobs;
  return pieces.map((token, index) => ({
    token,
    // Deterministic small variation around the scenario's level.
    logprob: (low ? -2.3 : -0.03) - ((index * 7) % 5) * (low ? 0.05 : 0.002),
    bytes: [...Buffer.from(token, 'utf8')],
    top_logprobs: [],
  }));
}

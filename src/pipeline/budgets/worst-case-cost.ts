import type { Picodollars } from '../../core/money.ts';
import type { Pricer } from '../../pricing/pricer.ts';
import { outputControlsFor } from '../../providers/output-controls-registry.ts';
import type { ParsedCall } from '../../providers/provider.ts';

export interface WorstCase {
  inputTokens: number;
  outputTokens: number;
  /** Undefined when the model has no price. */
  cost: Picodollars | undefined;
}

// Three bytes of request body per token: above the real count for English prose and JSON syntax
// (about four per token), so the estimate errs towards reserving too much, which settling returns.
const BYTES_PER_TOKEN = 3;

/**
 * The most a call can cost before it is sent: the body's size as input tokens plus the output cap
 * it asks for (or `assumedMaxOutputTokens` when it sets none), all input priced uncached.
 */
export function worstCaseCost(call: ParsedCall, pricer: Pricer, at: Date, assumedMaxOutputTokens: number): WorstCase {
  const inputTokens = Math.ceil((call.rawBody?.length ?? 0) / BYTES_PER_TOKEN);
  const model = call.model ?? '';
  const controls = outputControlsFor(call);
  const cap = controls && call.body ? controls.maxTokens(call.body)?.value : undefined;
  const embeds = /embed/i.test(call.operation.endpoint) || /embed/i.test(model);
  const outputTokens = embeds ? 0 : (cap ?? assumedMaxOutputTokens);
  const priced = pricer.cost({
    provider: call.operation.provider,
    model,
    usage: { input: { total: inputTokens, noCache: inputTokens }, output: { total: outputTokens, text: outputTokens } },
    at,
  });
  return { inputTokens, outputTokens, cost: priced?.cost };
}

import { EmulatorError, isRecord, numberField, type RequestContext } from './context.ts';

/**
 * How much hidden reasoning a request buys. `x-emulator-reasoning-tokens` (default 32) is what the
 * model spends at its API's default effort (OpenAI `medium`, Anthropic `high`); other efforts scale
 * it by the ratio of these weights. The weights are the emulator's convention, not measured
 * figures: they only need to order the levels and make lower effort cheaper.
 */
const EFFORT_WEIGHT: Record<string, number> = { none: 0, minimal: 0.1, low: 0.4, medium: 1, high: 2, xhigh: 3, max: 4 };

export const DEFAULT_REASONING_TOKENS = 32;

export function scaleByEffort(tokens: number, effort: unknown, defaultEffort: 'medium' | 'high'): number {
  if (typeof effort !== 'string') return tokens;
  const weight = EFFORT_WEIGHT[effort];
  if (weight === undefined) throw new EmulatorError('invalid_request', `Unsupported effort value '${effort}'.`, 'reasoning_effort');
  return Math.round((tokens * weight) / (EFFORT_WEIGHT[defaultEffort] ?? 1));
}

/** Claude models that think unless told not to (provider-facts §4.2: Opus 5). */
const THINKS_BY_DEFAULT = /(opus|fable|mythos)-5/;

/**
 * Thinking tokens for an Anthropic-native `thinking` object (Messages, InvokeModel, or Converse's
 * additionalModelRequestFields). Enabled thinking spends at most its budget, which must be at least
 * 1024 and below max_tokens, as the real API requires; `adaptive` spends what the model wants.
 */
export function anthropicThinkingTokens(
  context: RequestContext,
  model: string,
  thinking: unknown,
  effort: unknown,
  maxTokens: number | undefined,
): number {
  const wanted = scaleByEffort(context.reasoningTokens ?? DEFAULT_REASONING_TOKENS, effort, 'high');
  if (thinking === undefined || thinking === null) return THINKS_BY_DEFAULT.test(model) ? wanted : 0;
  if (!isRecord(thinking)) throw new EmulatorError('invalid_request', 'thinking: Input should be an object');
  switch (thinking['type']) {
    case 'disabled':
      return 0;
    case 'adaptive':
      return wanted;
    case 'enabled': {
      const budget = numberField(thinking, 'budget_tokens');
      if (budget === undefined || !Number.isInteger(budget) || budget < 1024) {
        throw new EmulatorError('invalid_request', 'thinking.enabled.budget_tokens: Input should be greater than or equal to 1024');
      }
      if (maxTokens !== undefined && budget >= maxTokens) {
        throw new EmulatorError('invalid_request', '`max_tokens` must be greater than `thinking.budget_tokens`');
      }
      return Math.min(wanted, budget);
    }
    default:
      throw new EmulatorError('invalid_request', "thinking.type: Input should be 'enabled', 'disabled' or 'adaptive'");
  }
}

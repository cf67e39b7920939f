/**
 * Output and reasoning controls in provider-neutral terms. Each provider folder implements
 * OutputControls for its own wire fields (max_tokens vs max_completion_tokens vs
 * inferenceConfig.maxTokens, reasoning_effort vs thinking...), so pipeline stages never touch a
 * provider's field names. Every edit only ever lowers what the client asked for.
 */

export type Effort = 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh' | 'max';

export const EFFORTS: readonly Effort[] = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'];

export function effortRank(effort: Effort): number {
  return EFFORTS.indexOf(effort);
}

export function isEffort(value: unknown): value is Effort {
  return typeof value === 'string' && (EFFORTS as readonly string[]).includes(value);
}

/**
 * The highest level a model supports at or below `ceiling`; the lowest it supports when all are
 * above. Undefined when the model has no levels at all.
 */
export function clampEffort(supported: readonly Effort[], ceiling: Effort): Effort | undefined {
  const sorted = [...supported].sort((a, b) => effortRank(a) - effortRank(b));
  let chosen: Effort | undefined;
  for (const level of sorted) if (effortRank(level) <= effortRank(ceiling)) chosen = level;
  return chosen ?? sorted[0];
}

/** What a request asks of the model's reasoning, once defaults are taken into account. */
export interface ReasoningRequest {
  /** The effort in force: the request's, else the model's default; undefined when the model has none. */
  effort: Effort | undefined;
  /** Anthropic-style thinking; undefined when the request does not say and the model does not think by default. */
  thinking: 'enabled' | 'adaptive' | 'disabled' | undefined;
  /** The thinking budget when thinking is enabled with one. */
  budgetTokens: number | undefined;
}

/** A feature's ceiling on reasoning. */
export interface ReasoningClamp {
  /** Highest effort allowed; `none` (or `minimal`) also turns thinking off. */
  maxEffort?: Effort | undefined;
  /** Highest thinking budget; below 1024 (the smallest budget Anthropic accepts) turns thinking off. */
  maxThinkingTokens?: number | undefined;
}

export interface ReasoningChange {
  /** The request's reasoning before and after, e.g. "effort:high" -> "effort:low", "thinking:8000" -> "thinking:off". */
  from: string;
  to: string;
}

export interface JsonSchemaFormat {
  name: string;
  schema: Record<string, unknown>;
  strict: boolean;
  description?: string | undefined;
}

export interface OutputCap {
  /** The wire field, e.g. "max_completion_tokens" or "inferenceConfig.maxTokens". */
  field: string;
  value: number;
}

export interface OutputControls {
  /** The output cap the client sent, with its field; undefined when it sent none. */
  maxTokens(body: Record<string, unknown>): OutputCap | undefined;
  /** Sets the cap in the field the client used, else the one this provider and model read; returns the field. */
  setMaxTokens(body: Record<string, unknown>, model: string, value: number): string;
  reasoning(body: Record<string, unknown>, model: string): ReasoningRequest;
  /**
   * True when the cap also bounds hidden reasoning with no budget of its own (OpenAI reasoning
   * models, adaptive thinking): a cap must then leave room for reasoning on top of the answer.
   */
  capIncludesReasoning(body: Record<string, unknown>, model: string): boolean;
  /** Lowers reasoning to the clamp (never raises it); returns what changed. */
  clampReasoning(body: Record<string, unknown>, model: string, clamp: ReasoningClamp): ReasoningChange | undefined;
  /** True when the client chose an output format or gave tools: then no schema is imposed. */
  choosesOwnFormat(body: Record<string, unknown>): boolean;
  /** Applies a JSON schema with the provider's own mechanism; the answer stays a text/JSON message. Returns the mechanism. */
  applyJsonSchema(body: Record<string, unknown>, format: JsonSchemaFormat): string;
}

export function describeReasoning(request: ReasoningRequest): string {
  const parts: string[] = [];
  if (request.thinking !== undefined) {
    parts.push(request.thinking === 'enabled' ? `thinking:${request.budgetTokens ?? '?'}` : `thinking:${request.thinking === 'disabled' ? 'off' : 'adaptive'}`);
  }
  if (request.effort !== undefined) parts.push(`effort:${request.effort}`);
  return parts.length > 0 ? parts.join(',') : 'default';
}

export function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

/** Anthropic's smallest accepted thinking budget. */
export const MIN_THINKING_BUDGET = 1024;

/**
 * Anthropic-style thinking (Messages, InvokeModel Claude bodies, Converse additionalModelRequestFields),
 * shared so the Anthropic and Bedrock folders read and clamp it the same way.
 */
export function readThinking(thinking: unknown, thinksByDefault: boolean): Pick<ReasoningRequest, 'thinking' | 'budgetTokens'> {
  const value = record(thinking);
  switch (value?.['type']) {
    case 'enabled':
      return { thinking: 'enabled', budgetTokens: positiveInteger(value['budget_tokens']) };
    case 'adaptive':
      return { thinking: 'adaptive', budgetTokens: undefined };
    case 'disabled':
      return { thinking: 'disabled', budgetTokens: undefined };
    default:
      return { thinking: thinksByDefault ? 'adaptive' : undefined, budgetTokens: undefined };
  }
}

/** The thinking object a clamp leaves, or undefined when it leaves the client's as it was. */
export function clampThinking(
  original: unknown,
  current: Pick<ReasoningRequest, 'thinking' | 'budgetTokens'>,
  clamp: ReasoningClamp,
): Record<string, unknown> | undefined {
  if (current.thinking === undefined || current.thinking === 'disabled') return undefined;
  const off =
    (clamp.maxEffort !== undefined && effortRank(clamp.maxEffort) <= effortRank('minimal')) ||
    (clamp.maxThinkingTokens !== undefined && clamp.maxThinkingTokens < MIN_THINKING_BUDGET);
  if (off) return { type: 'disabled' };
  if (current.thinking === 'enabled' && clamp.maxThinkingTokens !== undefined && (current.budgetTokens ?? Infinity) > clamp.maxThinkingTokens) {
    // Other keys (display...) stay as the client set them.
    return { ...record(original), type: 'enabled', budget_tokens: clamp.maxThinkingTokens };
  }
  return undefined;
}

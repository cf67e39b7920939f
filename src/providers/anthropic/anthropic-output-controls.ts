import {
  clampEffort,
  clampThinking,
  describeReasoning,
  effortRank,
  isEffort,
  positiveInteger,
  readThinking,
  record,
  type Effort,
  type OutputControls,
  type ReasoningClamp,
  type ReasoningRequest,
} from '../output-controls.ts';

/** Claude models that think unless told not to (provider-facts §4.2: Opus 5). */
export function thinksByDefault(model: string): boolean {
  return /(opus|fable|mythos)-5/.test(model);
}

/** `output_config.effort` levels (provider-facts §4.2). */
export const CLAUDE_EFFORTS: readonly Effort[] = ['low', 'medium', 'high', 'xhigh', 'max'];

/**
 * Claude thinking and effort, wherever they sit: the Messages body (also InvokeModel Claude bodies)
 * or Converse's additionalModelRequestFields / outputConfig. `thinkingHolder` is the object that
 * carries `thinking`, `effortHolder` the one that carries `effort`.
 */
export function claudeReasoning(thinkingHolder: Record<string, unknown> | undefined, effortHolder: Record<string, unknown> | undefined, model: string): ReasoningRequest {
  const effort = effortHolder?.['effort'];
  return { ...readThinking(thinkingHolder?.['thinking'], thinksByDefault(model)), effort: isEffort(effort) ? effort : undefined };
}

export interface ClaudeClampResult {
  thinking: Record<string, unknown> | undefined;
  effort: Effort | undefined;
  from: string;
  to: string;
}

/**
 * What a clamp changes in Claude's reasoning. Only an explicit effort is lowered (not every model
 * accepts the field); turning thinking off on a model that thinks by default also brings an effort
 * above `high` down to `high`, the highest at which such a model accepts thinking off.
 */
export function clampClaudeReasoning(
  originalThinking: unknown,
  current: ReasoningRequest,
  clamp: ReasoningClamp,
): ClaudeClampResult | undefined {
  const thinking = clampThinking(originalThinking, current, clamp);
  let effort: Effort | undefined;
  if (current.effort !== undefined && clamp.maxEffort !== undefined) {
    const target = clampEffort(CLAUDE_EFFORTS, clamp.maxEffort);
    if (target !== undefined && effortRank(target) < effortRank(current.effort)) effort = target;
  }
  if (thinking?.['type'] === 'disabled' && effortRank(effort ?? current.effort ?? 'high') > effortRank('high')) effort = 'high';
  if (thinking === undefined && effort === undefined) return undefined;
  const after: ReasoningRequest = {
    thinking: thinking === undefined ? current.thinking : thinking['type'] === 'disabled' ? 'disabled' : 'enabled',
    budgetTokens: thinking === undefined ? current.budgetTokens : positiveInteger(thinking['budget_tokens']),
    effort: effort ?? current.effort,
  };
  return { thinking, effort, from: describeReasoning(current), to: describeReasoning(after) };
}

function hasTools(body: Record<string, unknown>): boolean {
  return Array.isArray(body['tools']) && body['tools'].length > 0;
}

/** Anthropic Messages bodies: the direct API and Bedrock InvokeModel with an Anthropic body. */
export const anthropicOutputControls: OutputControls = {
  maxTokens(body) {
    // max_tokens is required; 0 (cache pre-warming) is not a cap to lower.
    const value = positiveInteger(body['max_tokens']);
    return value === undefined ? undefined : { field: 'max_tokens', value };
  },
  setMaxTokens(body, _model, value) {
    body['max_tokens'] = value;
    return 'max_tokens';
  },
  reasoning: (body, model) => claudeReasoning(body, record(body['output_config']), model),
  capIncludesReasoning(body, model) {
    const thinking = claudeReasoning(body, undefined, model).thinking;
    return thinking === 'adaptive' || thinking === 'enabled';
  },
  clampReasoning(body, model, clamp) {
    const current = claudeReasoning(body, record(body['output_config']), model);
    const result = clampClaudeReasoning(body['thinking'], current, clamp);
    if (!result) return undefined;
    if (result.thinking) body['thinking'] = result.thinking;
    if (result.effort) body['output_config'] = { ...record(body['output_config']), effort: result.effort };
    return { from: result.from, to: result.to };
  },
  choosesOwnFormat: (body) => record(body['output_config'])?.['format'] != null || hasTools(body),
  applyJsonSchema(body, format) {
    // output_config.format keeps the answer a text block holding JSON; forced tool use would turn
    // it into a tool_use block the client did not ask for.
    body['output_config'] = { ...record(body['output_config']), format: { type: 'json_schema', schema: format.schema } };
    return 'output_config.format';
  },
};

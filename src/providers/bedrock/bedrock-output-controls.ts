import { clampClaudeReasoning, claudeReasoning } from '../anthropic/anthropic-output-controls.ts';
import {
  clampEffort,
  effortRank,
  isEffort,
  positiveInteger,
  record,
  type Effort,
  type OutputControls,
  type ReasoningRequest,
} from '../output-controls.ts';

/** OpenAI open-weight models on Bedrock take `reasoning_effort` in additionalModelRequestFields. */
const GPT_OSS_EFFORTS: readonly Effort[] = ['low', 'medium', 'high'];

function isGptOss(model: string): boolean {
  return /gpt-oss/.test(model);
}

function extra(body: Record<string, unknown>): Record<string, unknown> | undefined {
  return record(body['additionalModelRequestFields']);
}

function reasoningOf(body: Record<string, unknown>, model: string): ReasoningRequest {
  if (isGptOss(model)) {
    const effort = extra(body)?.['reasoning_effort'];
    return { effort: isEffort(effort) ? effort : 'medium', thinking: undefined, budgetTokens: undefined };
  }
  return claudeReasoning(extra(body), record(body['outputConfig']), model);
}

/** Converse and ConverseStream. */
export const bedrockConverseOutputControls: OutputControls = {
  maxTokens(body) {
    const value = positiveInteger(record(body['inferenceConfig'])?.['maxTokens']);
    return value === undefined ? undefined : { field: 'inferenceConfig.maxTokens', value };
  },
  setMaxTokens(body, _model, value) {
    body['inferenceConfig'] = { ...record(body['inferenceConfig']), maxTokens: value };
    return 'inferenceConfig.maxTokens';
  },
  reasoning: reasoningOf,
  capIncludesReasoning(body, model) {
    const thinking = reasoningOf(body, model).thinking;
    return isGptOss(model) || thinking === 'adaptive' || thinking === 'enabled';
  },
  clampReasoning(body, model, clamp) {
    if (isGptOss(model)) {
      const current = reasoningOf(body, model).effort ?? 'medium';
      const target = clamp.maxEffort === undefined ? undefined : clampEffort(GPT_OSS_EFFORTS, clamp.maxEffort);
      if (target === undefined || effortRank(target) >= effortRank(current)) return undefined;
      body['additionalModelRequestFields'] = { ...extra(body), reasoning_effort: target };
      return { from: `effort:${current}`, to: `effort:${target}` };
    }
    const current = claudeReasoning(extra(body), record(body['outputConfig']), model);
    const result = clampClaudeReasoning(extra(body)?.['thinking'], current, clamp);
    if (!result) return undefined;
    if (result.thinking) body['additionalModelRequestFields'] = { ...extra(body), thinking: result.thinking };
    if (result.effort) body['outputConfig'] = { ...record(body['outputConfig']), effort: result.effort };
    return { from: result.from, to: result.to };
  },
  choosesOwnFormat: (body) => record(body['outputConfig'])?.['textFormat'] != null || record(body['toolConfig']) !== undefined,
  applyJsonSchema(body, format) {
    const jsonSchema = { schema: JSON.stringify(format.schema), name: format.name, ...(format.description ? { description: format.description } : {}) };
    body['outputConfig'] = { ...record(body['outputConfig']), textFormat: { type: 'json_schema', structure: { jsonSchema } } };
    return 'outputConfig.textFormat';
  },
};

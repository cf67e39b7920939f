import {
  clampEffort,
  describeReasoning,
  effortRank,
  isEffort,
  positiveInteger,
  record,
  type Effort,
  type JsonSchemaFormat,
  type OutputCap,
  type OutputControls,
  type ReasoningClamp,
  type ReasoningChange,
  type ReasoningRequest,
} from '../output-controls.ts';

/**
 * OpenAI reasoning models (o-series, the gpt-5 family except its chat variants): their cap field is
 * `max_completion_tokens` (`max_tokens` is refused) and it bounds reasoning plus answer.
 */
export function isOpenAIReasoningModel(model: string): boolean {
  const name = model.toLowerCase().replace(/^ft:/, '');
  return /^o\d/.test(name) || (/^gpt-5/.test(name) && !/chat/.test(name));
}

interface EffortSupport {
  levels: readonly Effort[];
  /** What the model does when the request names no effort. */
  fallback: Effort;
}

/** Per provider-facts §4.1: o-series low..high; gpt-5 minimal..high; gpt-5.1 and later none..high, default none. */
function effortSupport(model: string): EffortSupport | undefined {
  const name = model.toLowerCase();
  if (!isOpenAIReasoningModel(name) || /^o1-mini/.test(name)) return undefined;
  if (/-pro\b/.test(name)) return { levels: ['high'], fallback: 'high' };
  if (/^o\d/.test(name)) return { levels: ['low', 'medium', 'high'], fallback: 'medium' };
  if (/^gpt-5(-|$)/.test(name)) return { levels: ['minimal', 'low', 'medium', 'high'], fallback: 'medium' };
  return { levels: ['none', 'low', 'medium', 'high', 'xhigh'], fallback: 'none' };
}

function hasTools(body: Record<string, unknown>): boolean {
  return Array.isArray(body['tools']) && body['tools'].length > 0;
}

function clampedEffort(requested: unknown, model: string, clamp: ReasoningClamp): { from: Effort; to: Effort } | undefined {
  const support = effortSupport(model);
  if (!support || clamp.maxEffort === undefined) return undefined;
  const current = isEffort(requested) ? requested : support.fallback;
  const target = clampEffort(support.levels, clamp.maxEffort);
  if (target === undefined || effortRank(target) >= effortRank(current)) return undefined;
  return { from: current, to: target };
}

/** Chat Completions. */
export const openAIChatOutputControls: OutputControls = {
  maxTokens(body): OutputCap | undefined {
    const completion = positiveInteger(body['max_completion_tokens']);
    if (completion !== undefined) return { field: 'max_completion_tokens', value: completion };
    const legacy = positiveInteger(body['max_tokens']);
    return legacy === undefined ? undefined : { field: 'max_tokens', value: legacy };
  },
  setMaxTokens(body, model, value) {
    const field =
      body['max_completion_tokens'] !== undefined && body['max_completion_tokens'] !== null
        ? 'max_completion_tokens'
        : body['max_tokens'] !== undefined && body['max_tokens'] !== null
          ? 'max_tokens'
          : isOpenAIReasoningModel(model)
            ? 'max_completion_tokens'
            : 'max_tokens';
    body[field] = value;
    return field;
  },
  reasoning(body, model): ReasoningRequest {
    const support = effortSupport(model);
    const requested = body['reasoning_effort'];
    return { effort: isEffort(requested) ? requested : support?.fallback, thinking: undefined, budgetTokens: undefined };
  },
  capIncludesReasoning: (_body, model) => isOpenAIReasoningModel(model),
  clampReasoning(body, model, clamp): ReasoningChange | undefined {
    const change = clampedEffort(body['reasoning_effort'], model, clamp);
    if (!change) return undefined;
    const before = describeReasoning({ effort: change.from, thinking: undefined, budgetTokens: undefined });
    body['reasoning_effort'] = change.to;
    return { from: before, to: `effort:${change.to}` };
  },
  choosesOwnFormat: (body) => (body['response_format'] !== undefined && body['response_format'] !== null) || hasTools(body),
  applyJsonSchema(body, format: JsonSchemaFormat) {
    body['response_format'] = {
      type: 'json_schema',
      json_schema: { name: format.name, schema: format.schema, strict: format.strict, ...(format.description ? { description: format.description } : {}) },
    };
    return 'response_format.json_schema';
  },
};

/** Responses API: `max_output_tokens` bounds reasoning plus answer on every model. */
export const openAIResponsesOutputControls: OutputControls = {
  maxTokens(body) {
    const value = positiveInteger(body['max_output_tokens']);
    return value === undefined ? undefined : { field: 'max_output_tokens', value };
  },
  setMaxTokens(body, _model, value) {
    body['max_output_tokens'] = value;
    return 'max_output_tokens';
  },
  reasoning(body, model) {
    const requested = record(body['reasoning'])?.['effort'];
    return { effort: isEffort(requested) ? requested : effortSupport(model)?.fallback, thinking: undefined, budgetTokens: undefined };
  },
  capIncludesReasoning: (_body, model) => isOpenAIReasoningModel(model),
  clampReasoning(body, model, clamp) {
    const reasoning = record(body['reasoning']);
    const change = clampedEffort(reasoning?.['effort'], model, clamp);
    if (!change) return undefined;
    body['reasoning'] = { ...reasoning, effort: change.to };
    return { from: `effort:${change.from}`, to: `effort:${change.to}` };
  },
  choosesOwnFormat(body) {
    const format = record(record(body['text'])?.['format']);
    return (format !== undefined && format['type'] !== 'text') || hasTools(body);
  },
  applyJsonSchema(body, format) {
    body['text'] = {
      ...record(body['text']),
      format: { type: 'json_schema', name: format.name, schema: format.schema, strict: format.strict, ...(format.description ? { description: format.description } : {}) },
    };
    return 'text.format.json_schema';
  },
};

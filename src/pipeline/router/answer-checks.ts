import type { JsonRequirement, RoutedAnswer } from '../../providers/routing-view.ts';

/**
 * Scoring a cheap model's answer before deciding whether to escalate. Hard checks (cut short,
 * refused or "I don't know", JSON that does not parse or does not fit the requested schema, empty)
 * fail the answer outright; soft signals (mean token probability, self-reported confidence, a judge's
 * grade) each give a score in 0..1 and the answer's score is the lowest of them, so any one
 * doubtful signal is enough to escalate.
 */

export const CONFIDENCE_INSTRUCTION =
  'After your answer, add one final line of the form "Confidence: X", where X is a number from 0 to 1 giving the probability that your answer is correct and complete. Write nothing after it.';

export const JUDGE_INSTRUCTION =
  'You grade answers. Read the question and the answer, then reply with exactly one line of the form "Confidence: X", where X is a number from 0 to 1 giving the probability that the answer is correct, complete and helpful.';

const CONFIDENCE_LINE = /(?:^|\n)[ \t]*\**confidence\**[ \t]*[:=][ \t]*(0?\.\d+|0|1(?:\.0+)?)[ \t]*%?\.?[ \t]*\s*$/i;

/** The self-reported confidence at the end of an answer, and how many characters it spans. */
export function readConfidence(text: string): { value: number; length: number } | undefined {
  const match = CONFIDENCE_LINE.exec(text);
  if (!match?.[1]) return undefined;
  const value = Number(match[1]);
  if (!Number.isFinite(value) || value < 0 || value > 1) return undefined;
  return { value, length: text.length - match.index };
}

/** A judge's grade: the confidence line, or failing that the last number in 0..1 it wrote. */
export function readGrade(text: string): number | undefined {
  const line = readConfidence(text.trimEnd())?.value;
  if (line !== undefined) return line;
  const match = /confidence\W+(0?\.\d+|0|1(?:\.0+)?)/i.exec(text);
  return match?.[1] ? Number(match[1]) : undefined;
}

const DEFAULT_UNSURE_PATTERNS = [
  /\bI (?:do not|don't|dont) know\b/i,
  /\bI(?:'m| am) (?:not sure|unsure|not certain|unable to (?:answer|help|determine|provide))\b/i,
  /\bI (?:cannot|can't|can not) (?:answer|help with|assist with|provide|determine)\b/i,
  /\b(?:I'm sorry|I am sorry|Sorry), (?:but )?I (?:cannot|can't|can not|am unable|'m unable)\b/i,
  /\bas an AI(?: language model)?, I (?:cannot|can't|don't|do not)\b/i,
  /\bI (?:won't|will not) be able to\b/i,
];

/** Looks for refusal and "I don't know" phrasing near the start of the answer, where it decides the answer. */
export function unsurePattern(text: string, extra: readonly RegExp[] = []): string | undefined {
  const opening = text.slice(0, 400);
  for (const pattern of [...DEFAULT_UNSURE_PATTERNS, ...extra]) {
    if (pattern.test(opening)) return pattern.source;
  }
  return undefined;
}

/**
 * Validates the subset of JSON Schema that structured-output APIs accept: type, properties,
 * required, additionalProperties: false, items, enum, const, anyOf. Returns the first problem.
 */
export function schemaProblem(value: unknown, schema: Record<string, unknown>, path = '$'): string | undefined {
  if (Array.isArray(schema.anyOf)) {
    const options = schema.anyOf.filter((option): option is Record<string, unknown> => !!option && typeof option === 'object');
    return options.some((option) => schemaProblem(value, option, path) === undefined) ? undefined : `${path} matches none of anyOf`;
  }
  if ('const' in schema && JSON.stringify(schema.const) !== JSON.stringify(value)) return `${path} is not the constant`;
  if (Array.isArray(schema.enum) && !schema.enum.some((option) => JSON.stringify(option) === JSON.stringify(value))) return `${path} is not one of the enum values`;
  const types = Array.isArray(schema.type) ? schema.type : schema.type === undefined ? [] : [schema.type];
  if (types.length > 0) {
    const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
    const fits = types.some((type) => type === actual || (type === 'integer' && typeof value === 'number' && Number.isInteger(value)) || (type === 'number' && typeof value === 'number'));
    if (!fits) return `${path} should be ${types.join(' or ')}, is ${actual}`;
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    const properties = schema.properties && typeof schema.properties === 'object' ? (schema.properties as Record<string, Record<string, unknown>>) : {};
    for (const name of Array.isArray(schema.required) ? schema.required : []) {
      if (typeof name === 'string' && !(name in record)) return `${path}.${name} is required`;
    }
    for (const [name, child] of Object.entries(record)) {
      const childSchema = properties[name];
      if (childSchema) {
        const problem = schemaProblem(child, childSchema, `${path}.${name}`);
        if (problem) return problem;
      } else if (schema.additionalProperties === false) {
        return `${path}.${name} is not allowed`;
      }
    }
  }
  if (Array.isArray(value) && schema.items && typeof schema.items === 'object') {
    for (let index = 0; index < value.length; index += 1) {
      const problem = schemaProblem(value[index], schema.items as Record<string, unknown>, `${path}[${index}]`);
      if (problem) return problem;
    }
  }
  return undefined;
}

export interface ScoreInputs {
  answer: RoutedAnswer;
  json: JsonRequirement | undefined;
  /** Self-reported confidence, already read off the answer. */
  confidence: number | undefined;
  /** A judge model's grade, when one was asked. */
  judge: number | undefined;
  useLogprobs: boolean;
  /** Run the hard checks (truncation, refusal, unsure, JSON); default true. */
  checks?: boolean;
  unsurePatterns?: readonly RegExp[];
}

export interface AnswerScore {
  /** 0..1; below the policy's threshold means escalate. */
  score: number;
  /** Why: failed checks and each soft signal's value. */
  reasons: string[];
  signals: { meanTokenProbability?: number; confidence?: number; judge?: number };
}

/** Geometric mean of the token probabilities: exp(mean log-probability). */
export function meanTokenProbability(logprobs: readonly number[]): number | undefined {
  if (logprobs.length === 0) return undefined;
  return Math.exp(logprobs.reduce((sum, value) => sum + value, 0) / logprobs.length);
}

function hardChecks(inputs: ScoreInputs, reasons: string[]): void {
  const { answer } = inputs;
  if (answer.truncated) reasons.push('truncated');
  if (answer.refused) reasons.push('refused');
  if (answer.text.trim() === '' && !answer.refused) reasons.push('empty');
  if (answer.text && unsurePattern(answer.text, inputs.unsurePatterns)) reasons.push('unsure');
  if (!inputs.json) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.text);
  } catch {
    reasons.push('invalid_json');
    return;
  }
  if (inputs.json.schema) {
    const problem = schemaProblem(parsed, inputs.json.schema);
    if (problem) reasons.push(`schema: ${problem}`);
  }
}

export function scoreAnswer(inputs: ScoreInputs): AnswerScore {
  const { answer } = inputs;
  const reasons: string[] = [];
  const signals: AnswerScore['signals'] = {};
  if (inputs.checks !== false) hardChecks(inputs, reasons);
  const soft: number[] = [];
  if (inputs.useLogprobs && answer.logprobs) {
    const probability = meanTokenProbability(answer.logprobs);
    if (probability !== undefined) {
      signals.meanTokenProbability = probability;
      soft.push(probability);
    }
  }
  if (inputs.confidence !== undefined) {
    signals.confidence = inputs.confidence;
    soft.push(inputs.confidence);
  }
  if (inputs.judge !== undefined) {
    signals.judge = inputs.judge;
    soft.push(inputs.judge);
  }
  const score = reasons.length > 0 ? 0 : soft.length > 0 ? Math.min(...soft) : 1;
  return { score, reasons, signals };
}

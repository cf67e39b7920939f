import { anthropicRoutingView } from './anthropic/anthropic-routing.ts';
import { bedrockRoutingView } from './bedrock/bedrock-routing.ts';
import { openAIRoutingView } from './openai/openai-routing.ts';
import type { ParsedCall } from './provider.ts';

/**
 * What model routing and cascades need from a wire format: the prompt to classify, a copy of the
 * call aimed at another model, the answer's text to score, and small body edits. Everything
 * provider-specific about routing lives behind this interface.
 */
export interface RoutedAnswer {
  /** Text of the first choice / content blocks. */
  text: string;
  /** Per-token log-probabilities of that text, when the provider returned them. */
  logprobs: number[] | undefined;
  /** The output cap cut the answer short. */
  truncated: boolean;
  /** The provider flagged a refusal in its own field (OpenAI `refusal`, stop reason "refusal"). */
  refused: boolean;
}

export interface JsonRequirement {
  /** The JSON schema the client asked for, when it gave one. */
  schema: Record<string, unknown> | undefined;
}

export interface BodyEdit {
  trimEnd?: number;
  dropLogprobs?: boolean;
}

export interface RoutingView {
  /** Text the classifier reads: the final user turn. */
  promptText(call: ParsedCall): string | undefined;
  /** A copy of the call aimed at `model` (same wire format); the copy's body may be edited freely. */
  withModel(call: ParsedCall, model: string): ParsedCall;
  /** Adds a system instruction to a copy made by `withModel`. */
  addInstruction(call: ParsedCall, instruction: string): void;
  /** Asks for token log-probabilities, where the provider can return them. Returns false if it cannot. */
  requestLogprobs(call: ParsedCall): boolean;
  /** Whether the client itself asked for log-probabilities (then they stay in the answer). */
  clientWantsLogprobs(call: ParsedCall): boolean;
  /** Set when the client asked for a JSON answer. */
  jsonRequirement(call: ParsedCall): JsonRequirement | undefined;
  /** The answer in a complete body, or in the recorded bytes of a stream. */
  readAnswer(call: ParsedCall, body: Buffer): RoutedAnswer | undefined;
  /**
   * A complete (non-streamed) body with the last `trimEnd` characters of the answer's text cut
   * (a stripped confidence line) and, when asked, the log-probabilities the gateway added removed.
   * Undefined if the body cannot be edited.
   */
  rewriteBody(call: ParsedCall, body: Buffer, edit: BodyEdit): Buffer | undefined;
  /** A non-streamed request to `model` asking it to grade `answer` to `question` with `instruction`. */
  judgeCall(call: ParsedCall, model: string, instruction: string, question: string, answer: string): ParsedCall;
}

export function routingView(call: ParsedCall): RoutingView | undefined {
  if (!call.body) return undefined;
  switch (call.operation.provider) {
    case 'openai':
      return call.operation.endpoint === 'chat.completions' ? openAIRoutingView : undefined;
    case 'anthropic':
      return call.operation.endpoint === 'messages' ? anthropicRoutingView : undefined;
    case 'bedrock':
      return call.operation.endpoint === 'converse' || call.operation.endpoint === 'converse-stream' ? bedrockRoutingView : undefined;
    default:
      return undefined;
  }
}

/** Concatenated text of a content value that is a string or an array of {type:'text', text} parts. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : ''))
    .filter((text) => text !== '')
    .join('\n');
}

/** Cuts `count` characters off the end of the text spread over `parts` (the last ones first). */
export function trimTextParts(texts: string[], count: number): string[] {
  const result = [...texts];
  let remaining = count;
  for (let index = result.length - 1; index >= 0 && remaining > 0; index -= 1) {
    const text = result[index] as string;
    const cut = Math.min(text.length, remaining);
    result[index] = text.slice(0, text.length - cut);
    remaining -= cut;
  }
  return result;
}

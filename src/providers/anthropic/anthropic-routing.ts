import { objectField, stringField } from '../forward-headers.ts';
import type { ParsedCall } from '../provider.ts';
import { contentText, trimTextParts, type RoutedAnswer, type RoutingView } from '../routing-view.ts';
import { ServerSentEventScanner, tryParseJson } from '../server-sent-events.ts';

/** Anthropic Messages: routing helpers. Anthropic returns no token log-probabilities. */

function messages(call: ParsedCall): unknown[] {
  return Array.isArray(call.body?.messages) ? (call.body.messages as unknown[]) : [];
}

export function anthropicAnswerText(content: unknown): string {
  if (!Array.isArray(content)) return '';
  return content
    .map((block) => objectField(block))
    .filter((block) => block?.type === 'text' && typeof block.text === 'string')
    .map((block) => block?.text as string)
    .join('');
}

function readStream(body: Buffer): RoutedAnswer {
  const scanner = new ServerSentEventScanner();
  let text = '';
  let stopReason: string | undefined;
  for (const event of scanner.push(body)) {
    const parsed = objectField(tryParseJson(event.data));
    if (!parsed) continue;
    if (parsed.type === 'content_block_delta') {
      const delta = objectField(parsed.delta);
      if (delta?.type === 'text_delta' && typeof delta.text === 'string') text += delta.text;
    } else if (parsed.type === 'message_delta') {
      stopReason = stringField(objectField(parsed.delta)?.stop_reason) ?? stopReason;
    }
  }
  return { text, logprobs: undefined, truncated: stopReason === 'max_tokens', refused: stopReason === 'refusal' };
}

/** Appends a text block to the final user message, leaving any cached prefix before it intact. */
export function appendToLastUserMessage(list: unknown[], block: Record<string, unknown>, textOf: (content: string) => Record<string, unknown>): unknown[] {
  const copy = [...list];
  for (let index = copy.length - 1; index >= 0; index -= 1) {
    const message = objectField(copy[index]);
    if (message?.role !== 'user') continue;
    const content = typeof message.content === 'string' ? [textOf(message.content)] : Array.isArray(message.content) ? message.content : [];
    copy[index] = { ...message, content: [...content, block] };
    return copy;
  }
  return [...copy, { role: 'user', content: [block] }];
}

export const anthropicRoutingView: RoutingView = {
  promptText(call) {
    const list = messages(call);
    for (let index = list.length - 1; index >= 0; index -= 1) {
      const message = objectField(list[index]);
      if (message?.role === 'user') return contentText(message.content);
    }
    return undefined;
  },

  // A deep copy: later stages may edit nested parts of one attempt's body in place.
  withModel: (call, model) => ({ ...call, body: { ...structuredClone(call.body), model }, model }),

  addInstruction(call, instruction) {
    if (!call.body) return;
    call.body.messages = appendToLastUserMessage(messages(call), { type: 'text', text: instruction }, (text) => ({ type: 'text', text }));
  },

  requestLogprobs: () => false,
  clientWantsLogprobs: () => false,

  jsonRequirement(call) {
    const format = objectField(call.body?.output_format) ?? objectField(objectField(call.body?.output_config)?.format);
    if (format?.type === 'json_schema') return { schema: objectField(format.schema) };
    return undefined;
  },

  readAnswer(call, body) {
    if (call.stream) return readStream(body);
    const parsed = objectField(tryParseJson(body.toString('utf8')));
    if (!parsed) return undefined;
    const stopReason = stringField(parsed.stop_reason);
    return { text: anthropicAnswerText(parsed.content), logprobs: undefined, truncated: stopReason === 'max_tokens', refused: stopReason === 'refusal' };
  },

  rewriteBody(call, body, edit) {
    if (call.stream) return undefined;
    const parsed = objectField(tryParseJson(body.toString('utf8')));
    if (!parsed || !Array.isArray(parsed.content)) return undefined;
    if (edit.trimEnd) {
      const blocks = parsed.content.map((block) => objectField(block));
      const textIndexes = blocks.flatMap((block, index) => (block?.type === 'text' && typeof block.text === 'string' ? [index] : []));
      const trimmed = trimTextParts(textIndexes.map((index) => blocks[index]?.text as string), edit.trimEnd);
      parsed.content = parsed.content.map((block, index) => {
        const position = textIndexes.indexOf(index);
        return position === -1 ? block : { ...(block as Record<string, unknown>), text: trimmed[position] };
      });
    }
    return Buffer.from(JSON.stringify(parsed));
  },

  judgeCall(call, model, instruction, question, answer) {
    const body = {
      model,
      max_tokens: 256,
      temperature: 0,
      system: instruction,
      messages: [{ role: 'user', content: `Question:\n${question}\n\nAnswer:\n${answer}` }],
    };
    return { ...call, body, rawBody: Buffer.from(JSON.stringify(body)), model, stream: false };
  },
};

import { appendToLastUserMessage } from '../anthropic/anthropic-routing.ts';
import { objectField, stringField } from '../forward-headers.ts';
import type { ParsedCall } from '../provider.ts';
import { trimTextParts, type RoutedAnswer, type RoutingView } from '../routing-view.ts';
import { tryParseJson } from '../server-sent-events.ts';
import { bedrockOperation, type BedrockAction } from './bedrock-adapter.ts';
import { EventStreamReader, headerString } from './event-stream-reader.ts';

/** Bedrock Converse: routing helpers. The model is in the URL path, so a model swap changes the operation. */

function messages(call: ParsedCall): unknown[] {
  return Array.isArray(call.body?.messages) ? (call.body.messages as unknown[]) : [];
}

function blockTexts(content: unknown): string[] {
  if (!Array.isArray(content)) return [];
  return content.map((block) => objectField(block)).flatMap((block) => (typeof block?.text === 'string' ? [block.text] : []));
}

const TRUNCATED = new Set(['max_tokens', 'model_context_window_exceeded']);
const REFUSED = new Set(['guardrail_intervened', 'content_filtered']);

function readStream(body: Buffer): RoutedAnswer {
  const reader = new EventStreamReader();
  let text = '';
  let stopReason: string | undefined;
  for (const message of reader.push(body)) {
    const type = headerString(message, ':event-type');
    const payload = objectField(tryParseJson(Buffer.from(message.body).toString('utf8')));
    if (type === 'contentBlockDelta') {
      const delta = objectField(payload?.delta);
      if (typeof delta?.text === 'string') text += delta.text;
    } else if (type === 'messageStop') {
      stopReason = stringField(payload?.stopReason);
    }
  }
  return { text, logprobs: undefined, truncated: TRUNCATED.has(stopReason ?? ''), refused: REFUSED.has(stopReason ?? '') };
}

export const bedrockRoutingView: RoutingView = {
  promptText(call) {
    const list = messages(call);
    for (let index = list.length - 1; index >= 0; index -= 1) {
      const message = objectField(list[index]);
      if (message?.role === 'user') return blockTexts(message.content).join('\n');
    }
    return undefined;
  },

  withModel(call, model) {
    const action = call.operation.endpoint as BedrockAction;
    return { ...call, operation: bedrockOperation(action, encodeURIComponent(model)), body: structuredClone(call.body), model };
  },

  addInstruction(call, instruction) {
    if (!call.body) return;
    call.body.messages = appendToLastUserMessage(messages(call), { text: instruction }, (text) => ({ text }));
  },

  requestLogprobs: () => false,
  clientWantsLogprobs: () => false,

  jsonRequirement(call) {
    const format = objectField(objectField(call.body?.outputConfig)?.textFormat);
    return format?.type === 'json_schema' ? { schema: undefined } : undefined;
  },

  readAnswer(call, body) {
    if (call.stream) return readStream(body);
    const parsed = objectField(tryParseJson(body.toString('utf8')));
    if (!parsed) return undefined;
    const stopReason = stringField(parsed.stopReason) ?? '';
    const content = objectField(objectField(parsed.output)?.message)?.content;
    return { text: blockTexts(content).join(''), logprobs: undefined, truncated: TRUNCATED.has(stopReason), refused: REFUSED.has(stopReason) };
  },

  rewriteBody(call, body, edit) {
    if (call.stream) return undefined;
    const parsed = objectField(tryParseJson(body.toString('utf8')));
    const message = objectField(objectField(parsed?.output)?.message);
    if (!parsed || !message || !Array.isArray(message.content)) return undefined;
    if (edit.trimEnd) {
      const blocks = message.content.map((block) => objectField(block));
      const textIndexes = blocks.flatMap((block, index) => (typeof block?.text === 'string' ? [index] : []));
      const trimmed = trimTextParts(textIndexes.map((index) => blocks[index]?.text as string), edit.trimEnd);
      message.content = message.content.map((block, index) => {
        const position = textIndexes.indexOf(index);
        return position === -1 ? block : { ...(block as Record<string, unknown>), text: trimmed[position] };
      });
    }
    return Buffer.from(JSON.stringify(parsed));
  },

  judgeCall(call, model, instruction, question, answer) {
    const body = {
      system: [{ text: instruction }],
      messages: [{ role: 'user', content: [{ text: `Question:\n${question}\n\nAnswer:\n${answer}` }] }],
      inferenceConfig: { maxTokens: 256, temperature: 0 },
    };
    return { ...call, operation: bedrockOperation('converse', encodeURIComponent(model)), body, rawBody: Buffer.from(JSON.stringify(body)), model, stream: false };
  },
};

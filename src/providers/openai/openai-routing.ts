import { objectField, stringField } from '../forward-headers.ts';
import type { ParsedCall } from '../provider.ts';
import { contentText, type RoutedAnswer, type RoutingView } from '../routing-view.ts';
import { ServerSentEventScanner, tryParseJson } from '../server-sent-events.ts';

/** Chat Completions: routing helpers (model swap, instructions, answers, logprobs). */

function messages(call: ParsedCall): unknown[] {
  return Array.isArray(call.body?.messages) ? (call.body.messages as unknown[]) : [];
}

function answerFromChoice(choice: Record<string, unknown> | undefined): { text: string; refusal: boolean; logprobs: number[] | undefined; finish: string | undefined } {
  const message = objectField(choice?.message);
  const logprobContent = objectField(choice?.logprobs)?.content;
  return {
    text: typeof message?.content === 'string' ? message.content : '',
    refusal: typeof message?.refusal === 'string' && message.refusal !== '',
    logprobs: Array.isArray(logprobContent) ? logprobContent.map((item) => Number(objectField(item)?.logprob)).filter(Number.isFinite) : undefined,
    finish: stringField(choice?.finish_reason),
  };
}

function readStream(body: Buffer): RoutedAnswer {
  const scanner = new ServerSentEventScanner();
  let text = '';
  let refused = false;
  let logprobs: number[] | undefined;
  let finish: string | undefined;
  for (const event of scanner.push(body)) {
    if (event.data === '[DONE]') continue;
    const chunk = objectField(tryParseJson(event.data));
    const choices = Array.isArray(chunk?.choices) ? chunk.choices : [];
    for (const item of choices) {
      const choice = objectField(item);
      if (!choice || (choice.index ?? 0) !== 0) continue;
      const delta = objectField(choice.delta);
      if (typeof delta?.content === 'string') text += delta.content;
      if (typeof delta?.refusal === 'string' && delta.refusal !== '') refused = true;
      const content = objectField(choice.logprobs)?.content;
      if (Array.isArray(content)) {
        logprobs ??= [];
        for (const token of content) {
          const value = Number(objectField(token)?.logprob);
          if (Number.isFinite(value)) logprobs.push(value);
        }
      }
      finish = stringField(choice.finish_reason) ?? finish;
    }
  }
  return { text, refused: refused || finish === 'content_filter', logprobs, truncated: finish === 'length' };
}

export const openAIRoutingView: RoutingView = {
  promptText(call) {
    const list = messages(call);
    for (let index = list.length - 1; index >= 0; index -= 1) {
      const message = objectField(list[index]);
      if (message?.role === 'user') return contentText(message.content);
    }
    return undefined;
  },

  // A deep copy: later stages may edit nested parts of one attempt's body in place.
  withModel(call, model) {
    return { ...call, body: { ...structuredClone(call.body), model }, model };
  },

  addInstruction(call, instruction) {
    if (!call.body) return;
    call.body.messages = [...messages(call), { role: 'system', content: instruction }];
  },

  requestLogprobs(call) {
    if (!call.body) return false;
    call.body.logprobs = true;
    return true;
  },

  clientWantsLogprobs: (call) => call.body?.logprobs === true,

  jsonRequirement(call) {
    const format = objectField(call.body?.response_format);
    if (format?.type === 'json_object') return { schema: undefined };
    if (format?.type === 'json_schema') return { schema: objectField(objectField(format.json_schema)?.schema) };
    return undefined;
  },

  readAnswer(call, body) {
    if (call.stream) return readStream(body);
    const parsed = objectField(tryParseJson(body.toString('utf8')));
    if (!parsed) return undefined;
    const choice = objectField(Array.isArray(parsed.choices) ? parsed.choices[0] : undefined);
    const answer = answerFromChoice(choice);
    return { text: answer.text, refused: answer.refusal || answer.finish === 'content_filter', logprobs: answer.logprobs, truncated: answer.finish === 'length' };
  },

  rewriteBody(call, body, edit) {
    if (call.stream) return undefined;
    const parsed = objectField(tryParseJson(body.toString('utf8')));
    if (!parsed || !Array.isArray(parsed.choices)) return undefined;
    parsed.choices = parsed.choices.map((item, index) => {
      const choice = objectField(item);
      if (!choice) return item;
      const next: Record<string, unknown> = { ...choice };
      if (edit.dropLogprobs) next.logprobs = null;
      const message = objectField(choice.message);
      if (index === 0 && edit.trimEnd && message && typeof message.content === 'string') {
        next.message = { ...message, content: message.content.slice(0, Math.max(0, message.content.length - edit.trimEnd)) };
      }
      return next;
    });
    return Buffer.from(JSON.stringify(parsed));
  },

  judgeCall(call, model, instruction, question, answer) {
    const body = {
      model,
      messages: [
        { role: 'system', content: instruction },
        { role: 'user', content: `Question:\n${question}\n\nAnswer:\n${answer}` },
      ],
      temperature: 0,
    };
    return { ...call, body, rawBody: Buffer.from(JSON.stringify(body)), model, stream: false };
  },
};

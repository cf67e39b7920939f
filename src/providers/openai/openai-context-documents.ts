import { CONTEXT_MARKER, textOf, type ContextDocumentAccess, type MarkedContext } from '../context-documents.ts';
import { record } from '../output-controls.ts';

/**
 * OpenAI has no document block, so a client marks retrieved text with `"x-costgate-context": true`
 * on a message (each of its text parts, or its string content, is one document) or on single
 * content parts. Chat Completions `messages` and Responses `input` items are read the same way.
 */

interface Slot {
  message: Record<string, unknown>;
  /** Part position, or -1 when the whole string content is the document. */
  part: number;
  text: string;
}

function isMarked(value: unknown): boolean {
  const item = record(value);
  return item !== undefined && item[CONTEXT_MARKER] !== undefined && item[CONTEXT_MARKER] !== false;
}

const TEXT_PARTS = new Set(['text', 'input_text']);

function listOf(body: Record<string, unknown>, key: 'messages' | 'input'): unknown[] | undefined {
  const list = body[key];
  return Array.isArray(list) ? list : undefined;
}

function createAccess(key: 'messages' | 'input'): ContextDocumentAccess {
  return {
    find(body): MarkedContext | undefined {
      const messages = listOf(body, key);
      if (!messages) return undefined;
      const slots: Slot[] = [];
      let query = '';
      for (const value of messages) {
        const message = record(value);
        if (!message) continue;
        const content = message['content'];
        const whole = isMarked(message);
        if (typeof content === 'string') {
          if (whole) slots.push({ message, part: -1, text: content });
          else if (message['role'] === 'user') query = content;
          continue;
        }
        if (!Array.isArray(content)) continue;
        const questionParts: string[] = [];
        content.forEach((part, index) => {
          const item = record(part);
          if (!item || !TEXT_PARTS.has(String(item['type']))) return;
          if (whole || isMarked(item)) slots.push({ message, part: index, text: textOf(item) });
          else questionParts.push(textOf(item));
        });
        if (message['role'] === 'user' && questionParts.length > 0) query = questionParts.join('\n');
      }
      if (slots.length === 0) return undefined;
      return {
        query,
        documents: slots.map(({ text }) => ({ text, pinned: false })),
        blocked: undefined,
        remove(indexes) {
          const dropParts = new Map<Record<string, unknown>, Set<number>>();
          const dropMessages = new Set<Record<string, unknown>>();
          slots.forEach((slot, index) => {
            if (!indexes.has(index)) return;
            if (slot.part === -1) dropMessages.add(slot.message);
            else dropParts.set(slot.message, (dropParts.get(slot.message) ?? new Set()).add(slot.part));
          });
          for (const [message, parts] of dropParts) {
            const content = message['content'] as unknown[];
            const kept = content.filter((_, index) => !parts.has(index));
            // A message left with no parts goes too: an empty content list is an invalid request.
            if (kept.length === 0) dropMessages.add(message);
            else message['content'] = kept;
          }
          if (dropMessages.size > 0) body[key] = messages.filter((message) => !dropMessages.has(message as Record<string, unknown>));
        },
      };
    },
    stripMarkers(body) {
      let found = false;
      for (const value of listOf(body, key) ?? []) {
        const message = record(value);
        if (!message) continue;
        if (CONTEXT_MARKER in message) {
          delete message[CONTEXT_MARKER];
          found = true;
        }
        const content = message['content'];
        if (!Array.isArray(content)) continue;
        for (const part of content) {
          const item = record(part);
          if (item && CONTEXT_MARKER in item) {
            delete item[CONTEXT_MARKER];
            found = true;
          }
        }
      }
      return found;
    },
  };
}

export const openAIChatContextDocuments = createAccess('messages');
export const openAIResponsesContextDocuments = createAccess('input');

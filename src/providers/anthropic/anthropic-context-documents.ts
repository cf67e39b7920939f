import { textOf, type ContextDocument, type ContextDocumentAccess, type MarkedContext } from '../context-documents.ts';
import { record } from '../output-controls.ts';

/**
 * Anthropic's own blocks mark retrieved text: `document` and `search_result` blocks in the last
 * user message. Blocks carrying `cache_control` are pinned (removing one would move a cache
 * breakpoint). When any of them has citations enabled nothing is trimmed: citations point at
 * documents by position, and the client maps them back to its own list.
 */

function documentText(block: Record<string, unknown>): string | undefined {
  const parts: string[] = [];
  for (const key of ['title', 'context']) if (typeof block[key] === 'string') parts.push(block[key]);
  if (block['type'] === 'search_result') {
    if (typeof block['source'] === 'string') parts.push(block['source']);
    parts.push(textOf(block['content']));
  } else {
    const source = record(block['source']);
    if (source?.['type'] === 'text' && typeof source['data'] === 'string') parts.push(source['data']);
    else if (source?.['type'] === 'content') parts.push(textOf(source['content']));
    else return undefined; // A PDF or an image: no text to score, so it is kept.
  }
  return parts.join('\n');
}

export function lastUserContent(messages: unknown): unknown[] | undefined {
  if (!Array.isArray(messages)) return undefined;
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = record(messages[index]);
    if (message?.['role'] !== 'user') continue;
    return Array.isArray(message['content']) ? (message['content'] as unknown[]) : undefined;
  }
  return undefined;
}

export function createBlockDocumentAccess(options: {
  isDocument(block: Record<string, unknown>): boolean;
  text(block: Record<string, unknown>): string | undefined;
  citations(block: Record<string, unknown>): boolean;
  pinned(block: Record<string, unknown>): boolean;
  questionText(block: Record<string, unknown>): string | undefined;
  /** True when this block is a cache breakpoint of its own that pins the block before it. */
  isBreakpoint?(block: Record<string, unknown>): boolean;
}): ContextDocumentAccess {
  return {
    find(body): MarkedContext | undefined {
      const messages = body['messages'];
      const content = lastUserContent(messages);
      if (!content) return undefined;
      const positions: number[] = [];
      const documents: ContextDocument[] = [];
      const question: string[] = [];
      let blocked: string | undefined;
      content.forEach((value, index) => {
        const block = record(value);
        if (!block) return;
        if (!options.isDocument(block)) {
          const text = options.questionText(block);
          if (text) question.push(text);
          return;
        }
        if (options.citations(block)) blocked = 'citations refer to documents by position';
        const text = options.text(block);
        positions.push(index);
        const next = record(content[index + 1]);
        const pinned = text === undefined || options.pinned(block) || (next !== undefined && options.isBreakpoint?.(next) === true);
        documents.push({ text: text ?? '', pinned });
      });
      if (documents.length === 0) return undefined;
      return {
        query: question.join('\n'),
        documents,
        blocked,
        remove(indexes) {
          const drop = new Set(positions.filter((_, index) => indexes.has(index)));
          const kept = content.filter((_, index) => !drop.has(index));
          // The content list is the last user message's own array: replace its members in place.
          content.splice(0, content.length, ...kept);
        },
      };
    },
    stripMarkers: () => false,
  };
}

export const anthropicContextDocuments = createBlockDocumentAccess({
  isDocument: (block) => block['type'] === 'document' || block['type'] === 'search_result',
  text: documentText,
  citations: (block) => record(block['citations'])?.['enabled'] === true,
  pinned: (block) => block['cache_control'] !== undefined && block['cache_control'] !== null,
  questionText: (block) => (block['type'] === 'text' && typeof block['text'] === 'string' ? block['text'] : undefined),
});

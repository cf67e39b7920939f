import { createBlockDocumentAccess } from '../anthropic/anthropic-context-documents.ts';
import { textOf } from '../context-documents.ts';
import { record } from '../output-controls.ts';

/**
 * Converse `document` blocks in the last user message. Only text sources can be scored; a
 * document given as bytes or an S3 location is pinned. A `cachePoint` block right after a
 * document pins it, as cache_control does on Anthropic.
 */
export const bedrockConverseContextDocuments = createBlockDocumentAccess({
  isDocument: (block) => record(block['document']) !== undefined,
  text(block) {
    const document = record(block['document']);
    const source = record(document?.['source']);
    const body = typeof source?.['text'] === 'string' ? source['text'] : Array.isArray(source?.['content']) ? textOf(source['content']) : undefined;
    if (body === undefined) return undefined;
    return [typeof document?.['name'] === 'string' ? document['name'] : '', body].filter(Boolean).join('\n');
  },
  citations: (block) => record(record(block['document'])?.['citations'])?.['enabled'] === true,
  pinned: () => false,
  isBreakpoint: (block) => record(block['cachePoint']) !== undefined,
  questionText: (block) => (typeof block['text'] === 'string' ? block['text'] : undefined),
});

/**
 * Retrieved documents a client marked in its request (README "Context trimming"), found in each
 * provider's wire format by that provider's folder, so the trimming stage works on plain text.
 */

/** The marker OpenAI-format requests put on a message or content part holding retrieved text. */
export const CONTEXT_MARKER = 'x-costgate-context';

export interface ContextDocument {
  text: string;
  /** Kept whatever its rank (it carries a cache breakpoint, or has no text to score). */
  pinned: boolean;
}

export interface MarkedContext {
  /** The user's question the documents are ranked against. */
  query: string;
  documents: ContextDocument[];
  /** Set when the documents must not be trimmed, with the reason (e.g. citations refer to them by position). */
  blocked: string | undefined;
  /** Removes the documents at these positions from the request body. */
  remove(indexes: ReadonlySet<number>): void;
}

export interface ContextDocumentAccess {
  /** The marked documents, or undefined when the request has none. */
  find(body: Record<string, unknown>): MarkedContext | undefined;
  /** Removes costgate's own markers so the upstream never sees them; true when there were any. */
  stripMarkers(body: Record<string, unknown>): boolean;
}

export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(textOf).filter(Boolean).join('\n');
  if (typeof value === 'object' && value !== null) {
    const item = value as Record<string, unknown>;
    if (typeof item['text'] === 'string') return item['text'];
    if (item['content'] !== undefined) return textOf(item['content']);
  }
  return '';
}

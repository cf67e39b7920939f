import type { RedactionKind } from '../../core/redaction.ts';
import { isCardNumber, looksLikeSecret, redactionTag, redactText, secretField, type RedactionCounts } from '../../core/redaction.ts';

/** A body as it is stored: parsed JSON when it fitted, else (part of) its text. Always redacted. */
export interface RedactedBody {
  json?: unknown;
  text?: string;
  /** Set when something was cut to keep the body within the limit. */
  truncated?: true;
}

/**
 * Strings are redacted with this much text beyond the cut, so a secret that straddles the limit is
 * recognised whole before the cut (no credential is that long).
 */
const OVERLAP = 4096;
const TRUNCATED = '[TRUNCATED]';

interface Walk {
  kinds: ReadonlySet<RedactionKind>;
  counts: RedactionCounts;
  /** Characters of string content still to keep; later strings become `[TRUNCATED]`. */
  remaining: number;
  truncated: boolean;
}

function redactString(value: string, walk: Walk): string {
  if (walk.remaining <= 0) {
    walk.truncated = true;
    return TRUNCATED;
  }
  let text: string;
  if (value.length > walk.remaining) {
    text = redactText(value.slice(0, walk.remaining + OVERLAP), walk.kinds, walk.counts).slice(0, walk.remaining);
    walk.truncated = true;
  } else {
    text = redactText(value, walk.kinds, walk.counts);
  }
  walk.remaining -= text.length;
  return text;
}

function count(walk: Walk, kind: RedactionKind): string {
  walk.counts[kind] = (walk.counts[kind] ?? 0) + 1;
  return redactionTag(kind);
}

function redactValue(value: unknown, walk: Walk, field: string | undefined): unknown {
  if (typeof value === 'string') {
    const secret = field === undefined || !walk.kinds.has('api_key') ? undefined : secretField(field);
    if (value.length > 0 && (secret === 'always' || (secret === 'if-generated' && looksLikeSecret(value)))) return count(walk, 'api_key');
    return redactString(value, walk);
  }
  // A card number sent as a JSON number is still a card number.
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 1e11 && walk.kinds.has('card_number') && isCardNumber(String(value))) {
    return count(walk, 'card_number');
  }
  if (Array.isArray(value)) return value.map((item) => redactValue(item, walk, undefined));
  if (value !== null && typeof value === 'object') {
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      walk.remaining -= key.length;
      result[redactText(key, walk.kinds, walk.counts)] = redactValue(item, walk, key);
    }
    return result;
  }
  return value;
}

/** Cuts UTF-8 text to at most `maxBytes` bytes without splitting a character. */
function cutToBytes(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text);
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // Back up over continuation bytes (10xxxxxx) so the cut falls between characters.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return bytes.subarray(0, end).toString('utf8');
}

/** Redacts plain text (an assembled stream answer, a non-JSON body) and keeps at most `maxBytes` of it. */
export function redactPlainText(text: string, kinds: ReadonlySet<RedactionKind>, maxBytes: number, counts: RedactionCounts): RedactedBody {
  const window = text.length > maxBytes + OVERLAP ? text.slice(0, maxBytes + OVERLAP) : text;
  const redacted = redactText(window, kinds, counts);
  const kept = cutToBytes(redacted, maxBytes);
  return kept.length < redacted.length || window.length < text.length ? { text: kept, truncated: true } : { text: kept };
}

/**
 * Redacts a JSON body string by string (so escapes stay valid and keys named like secrets are
 * honoured) and keeps it within `maxBytes` once serialized: string content beyond the limit is
 * never scanned, and a result still too long is kept as cut JSON text. Non-JSON bodies are text.
 */
export function redactBody(bytes: Buffer, kinds: ReadonlySet<RedactionKind>, maxBytes: number, counts: RedactionCounts): RedactedBody {
  const text = bytes.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return redactPlainText(text, kinds, maxBytes, counts);
  }
  const walk: Walk = { kinds, counts, remaining: maxBytes, truncated: false };
  const json = redactValue(parsed, walk, undefined);
  const serialized = JSON.stringify(json);
  if (Buffer.byteLength(serialized) > maxBytes) return { text: cutToBytes(serialized, maxBytes), truncated: true };
  return walk.truncated ? { json, truncated: true } : { json };
}

/**
 * Redacts a server-sent event stream event by event: each `data:` JSON is redacted string by string
 * (a raw-text pass would miss a value after an escape such as `\n`). Used when no answer text
 * could be assembled from the stream (tool calls only, an unknown event type).
 */
export function redactEventStream(text: string, kinds: ReadonlySet<RedactionKind>, maxBytes: number, counts: RedactionCounts): RedactedBody {
  const walk: Walk = { kinds, counts, remaining: maxBytes, truncated: false };
  const lines: string[] = [];
  let size = 0;
  for (const line of text.split('\n')) {
    if (size >= maxBytes) {
      walk.truncated = true;
      break;
    }
    const data = line.startsWith('data:') ? line.slice(5).trim() : undefined;
    let parsed: unknown;
    if (data !== undefined && (data.startsWith('{') || data.startsWith('['))) {
      try {
        parsed = JSON.parse(data);
      } catch {
        parsed = undefined;
      }
    }
    const kept = parsed === undefined ? redactString(line, walk) : `data: ${JSON.stringify(redactValue(parsed, walk, undefined))}`;
    lines.push(kept);
    size += Buffer.byteLength(kept) + 1;
  }
  const joined = lines.join('\n');
  if (Buffer.byteLength(joined) > maxBytes) return { text: cutToBytes(joined, maxBytes), truncated: true };
  return walk.truncated ? { text: joined, truncated: true } : { text: joined };
}

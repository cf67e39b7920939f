/** One server-sent event as it appeared on the wire. */
export interface ServerSentEvent {
  /** The event's full text including its terminating blank line, to re-emit it unchanged. */
  raw: string;
  event: string | undefined;
  data: string;
}

const EVENT_END = /\r?\n\r?\n/;

/**
 * Splits a byte stream into complete SSE events. Chunk boundaries fall anywhere, so the tail of
 * each chunk is held until its event is complete.
 */
export class ServerSentEventScanner {
  private pending = '';

  push(chunk: Buffer): ServerSentEvent[] {
    this.pending += chunk.toString('utf8');
    const events: ServerSentEvent[] = [];
    for (;;) {
      const match = EVENT_END.exec(this.pending);
      if (!match) break;
      const end = match.index + match[0].length;
      const raw = this.pending.slice(0, end);
      this.pending = this.pending.slice(end);
      events.push(parseEvent(raw, match.index));
    }
    return events;
  }

  /** Text of an event still incomplete when the stream ended. */
  rest(): string {
    return this.pending;
  }
}

function parseEvent(raw: string, bodyEnd: number): ServerSentEvent {
  let event: string | undefined;
  const data: string[] = [];
  for (const line of raw.slice(0, bodyEnd).split(/\r?\n/)) {
    if (line.startsWith('data:')) data.push(line.slice(line.charAt(5) === ' ' ? 6 : 5));
    else if (line.startsWith('event:')) event = line.slice(line.charAt(6) === ' ' ? 7 : 6).trim();
  }
  return { raw, event, data: data.join('\n') };
}

export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

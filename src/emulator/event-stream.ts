import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

/**
 * AWS event-stream framing (binary prelude, typed headers, CRC32s) for Bedrock's streaming
 * operations, encoded with the same codec the AWS SDK decodes with.
 */
export const EVENT_STREAM_CONTENT_TYPE = 'application/vnd.amazon.eventstream';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** One `:message-type event` frame whose JSON body is `payload`. */
export function encodeEvent(eventType: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: eventType },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

/** InvokeModelWithResponseStream wraps each model-native event as base64 inside a `chunk` frame. */
export function encodeChunk(modelEvent: unknown): Uint8Array {
  const bytes = Buffer.from(JSON.stringify(modelEvent)).toString('base64');
  return encodeEvent('chunk', { bytes });
}

/** Decodes a whole event-stream body into its frames' event types and JSON bodies (for tests). */
export function decodeEvents(body: Uint8Array): Array<{ eventType: string; payload: unknown }> {
  const decoder = new EventStreamCodec(toUtf8, fromUtf8);
  decoder.feed(body);
  decoder.endOfStream();
  const events: Array<{ eventType: string; payload: unknown }> = [];
  for (const message of decoder.getAvailableMessages().getMessages()) {
    const eventType = message.headers[':event-type']?.value;
    events.push({ eventType: String(eventType), payload: JSON.parse(toUtf8(message.body)) });
  }
  return events;
}

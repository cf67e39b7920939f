import { crc32 } from 'node:zlib';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

/**
 * AWS event-stream framing for Bedrock's streaming operations. A frame is:
 * total length (4) | headers length (4) | prelude CRC32 (4) | headers | payload | message CRC32 (4).
 * Frames are built here with native CRC32 and cached header blocks, because the generic codec made
 * ConverseStream several times slower than the SSE routes; the test suite checks the output
 * byte for byte against the codec the AWS SDK decodes with.
 */
export const EVENT_STREAM_CONTENT_TYPE = 'application/vnd.amazon.eventstream';

const STRING_HEADER_TYPE = 7;
const PRELUDE_BYTES = 12;
const CRC_BYTES = 4;

const headerBlocks = new Map<string, Buffer>();

function stringHeader(name: string, value: string): Buffer {
  const nameBytes = Buffer.from(name);
  const valueBytes = Buffer.from(value);
  const header = Buffer.alloc(1 + nameBytes.length + 1 + 2 + valueBytes.length);
  let offset = header.writeUInt8(nameBytes.length, 0);
  offset += nameBytes.copy(header, offset);
  offset = header.writeUInt8(STRING_HEADER_TYPE, offset);
  offset = header.writeUInt16BE(valueBytes.length, offset);
  valueBytes.copy(header, offset);
  return header;
}

/** The three headers every event frame carries; only the event type varies, so each block is built once. */
function headersFor(eventType: string): Buffer {
  let block = headerBlocks.get(eventType);
  if (block === undefined) {
    block = Buffer.concat([
      stringHeader(':event-type', eventType),
      stringHeader(':content-type', 'application/json'),
      stringHeader(':message-type', 'event'),
    ]);
    headerBlocks.set(eventType, block);
  }
  return block;
}

/** One `:message-type event` frame whose JSON body is `payload`. */
export function encodeEvent(eventType: string, payload: unknown): Uint8Array {
  const headers = headersFor(eventType);
  const body = Buffer.from(JSON.stringify(payload));
  const totalLength = PRELUDE_BYTES + headers.length + body.length + CRC_BYTES;
  const frame = Buffer.allocUnsafe(totalLength);
  frame.writeUInt32BE(totalLength, 0);
  frame.writeUInt32BE(headers.length, 4);
  frame.writeUInt32BE(crc32(frame.subarray(0, 8)), 8);
  headers.copy(frame, PRELUDE_BYTES);
  body.copy(frame, PRELUDE_BYTES + headers.length);
  frame.writeUInt32BE(crc32(frame.subarray(0, totalLength - CRC_BYTES)), totalLength - CRC_BYTES);
  return frame;
}

/** InvokeModelWithResponseStream wraps each model-native event as base64 inside a `chunk` frame. */
export function encodeChunk(modelEvent: unknown): Uint8Array {
  const bytes = Buffer.from(JSON.stringify(modelEvent)).toString('base64');
  return encodeEvent('chunk', { bytes });
}

/** The reference encoding, from the codec the AWS SDK itself uses (for tests). */
export function encodeEventWithCodec(eventType: string, payload: unknown): Uint8Array {
  return new EventStreamCodec(toUtf8, fromUtf8).encode({
    headers: {
      ':event-type': { type: 'string', value: eventType },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

/** Decodes a whole event-stream body into its frames' event types and JSON bodies (for tests). */
export function decodeEvents(body: Uint8Array): Array<{ eventType: string; payload: unknown }> {
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const events: Array<{ eventType: string; payload: unknown }> = [];
  // The codec decodes one frame at a time; each frame starts with its own total length.
  for (let offset = 0; offset < bytes.length; ) {
    const length = bytes.readUInt32BE(offset);
    const message = codec.decode(bytes.subarray(offset, offset + length));
    events.push({
      eventType: String(message.headers[':event-type']?.value),
      payload: JSON.parse(toUtf8(message.body)),
    });
    offset += length;
  }
  return events;
}

import { EventStreamCodec, type Message } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const PRELUDE_BYTES = 4;

/** Reassembles AWS event-stream messages from arbitrarily split chunks. */
export class EventStreamReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Message[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const messages: Message[] = [];
    while (this.pending.length >= PRELUDE_BYTES) {
      const total = this.pending.readUInt32BE(0);
      if (this.pending.length < total) break;
      messages.push(codec.decode(this.pending.subarray(0, total)));
      this.pending = this.pending.subarray(total);
    }
    return messages;
  }
}

export function headerString(message: Message, name: string): string | undefined {
  const header = message.headers[name];
  return header?.type === 'string' ? header.value : undefined;
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServerSentEventScanner } from './server-sent-events.ts';

test('events split across chunks at any byte are reassembled, CRLF included', () => {
  const text = 'event: message_start\ndata: {"a":1}\n\nevent: ping\r\ndata: {}\r\n\r\ndata: [DONE]\n\n';
  for (let cut = 1; cut < text.length; cut++) {
    const scanner = new ServerSentEventScanner();
    const events = [...scanner.push(Buffer.from(text.slice(0, cut))), ...scanner.push(Buffer.from(text.slice(cut)))];
    assert.deepEqual(
      events.map((event) => [event.event, event.data]),
      [['message_start', '{"a":1}'], ['ping', '{}'], [undefined, '[DONE]']],
    );
    assert.equal(events.map((event) => event.raw).join(''), text);
  }
});

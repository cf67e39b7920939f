import type { ServerResponse } from 'node:http';
import type { HeaderMap, ResponseSink } from '../pipeline/context.ts';

export class HttpResponseSink implements ResponseSink {
  started = false;
  status: number | undefined;

  constructor(private readonly response: ServerResponse) {}

  start(status: number, headers: HeaderMap): void {
    this.started = true;
    this.status = status;
    this.response.writeHead(status, headers);
    // Streams must reach the client token by token, not when Nagle decides.
    this.response.flushHeaders();
  }

  write(chunk: Buffer): boolean {
    if (chunk.length === 0) return true;
    return this.response.write(chunk);
  }

  onDrain(callback: () => void): void {
    this.response.once('drain', callback);
  }

  end(): void {
    this.response.end();
  }

  abort(): void {
    this.response.destroy();
  }
}

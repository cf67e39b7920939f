import type { HeaderMap, ResponseSink } from '../pipeline/context.ts';
import { destroyResponse, type GatewayResponse } from './dual-protocol-server.ts';

export class HttpResponseSink implements ResponseSink {
  started = false;
  status: number | undefined;

  constructor(private readonly response: GatewayResponse) {}

  start(status: number, headers: HeaderMap): void {
    this.started = true;
    this.status = status;
    // Headers leave with the first chunk, in one write; the first chunk follows at once.
    this.response.writeHead(status, headers);
  }

  write(chunk: Buffer): boolean {
    if (chunk.length === 0) return true;
    return (this.response as { write(chunk: Buffer): boolean }).write(chunk);
  }

  onDrain(callback: () => void): void {
    this.response.once('drain', callback);
  }

  end(): void {
    this.response.end();
  }

  abort(): void {
    destroyResponse(this.response);
  }
}

import { createServer as createHttp1Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { constants as http2Constants, createServer as createHttp2Server, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { createServer as createSocketServer, type Server, type Socket } from 'node:net';

export type GatewayRequest = IncomingMessage | Http2ServerRequest;
export type GatewayResponse = ServerResponse | Http2ServerResponse;

/** True once the response can take no more bytes (finished, or its connection/stream is gone). */
export function responseClosed(response: GatewayResponse): boolean {
  return 'stream' in response ? response.stream.destroyed || response.stream.closed : response.destroyed;
}

/** Cuts a response short so the client sees a failure, not a clean end. */
export function destroyResponse(response: GatewayResponse): void {
  if ('stream' in response) response.stream.close(http2Constants.NGHTTP2_INTERNAL_ERROR);
  else response.destroy();
}

export interface DualProtocolServer {
  server: Server;
  /** Destroys every open connection (after in-flight calls have drained). */
  destroyConnections(): void;
}

/**
 * One port, two protocols. The OpenAI and Anthropic SDKs speak HTTP/1.1; the AWS SDK's Bedrock
 * runtime client opens HTTP/2 with prior knowledge (h2c) when the endpoint is plain http.
 * The protocol is chosen once per connection from its first bytes, so requests pay nothing for it.
 */
export function createDualProtocolServer(handler: (request: GatewayRequest, response: GatewayResponse) => void): DualProtocolServer {
  const http1 = createHttp1Server(handler);
  http1.keepAliveTimeout = 65_000;
  const http2 = createHttp2Server(handler);
  // A client dropping its HTTP/2 session mid-call is handled per request, not a server failure.
  http2.on('sessionError', () => {});
  const sockets = new Set<Socket>();
  // node:http turns Nagle off on its own sockets; ours come from net, so do it here, or each
  // streamed token waits for the client's delayed ACK (tens of ms).
  const server = createSocketServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.once('data', (head: Buffer) => {
      socket.pause();
      socket.unshift(head);
      // Every HTTP/2 connection opens with the client preface "PRI * HTTP/2.0".
      if (head.subarray(0, 3).toString('latin1') === 'PRI') {
        http2.emit('connection', socket);
      } else {
        http1.emit('connection', socket);
        socket.resume();
      }
    });
  });
  return {
    server,
    destroyConnections() {
      for (const socket of sockets) socket.destroy();
    },
  };
}

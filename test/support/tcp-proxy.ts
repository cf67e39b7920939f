import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on a local port in front of a real server, that a test can cut (the listener closes
 * and every open connection is destroyed, as if the server vanished) and restore on the same port.
 * It lets a test take a shared service away without touching the service itself.
 */
export interface TcpProxy {
  port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;

  function listen(port: number): Promise<number> {
    const created = createServer((client) => {
      const upstream = connect(target.port, target.host);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    server = created;
    return new Promise((resolve, reject) => {
      created.once('error', reject);
      created.listen(port, '127.0.0.1', () => {
        const address = created.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  async function cut(): Promise<void> {
    const closing = server;
    server = undefined;
    // close() stops new connections at once but calls back only when the open ones are gone.
    const closed = closing ? new Promise<void>((resolve) => closing.close(() => resolve())) : Promise.resolve();
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await closed;
  }

  const port = await listen(0);
  return {
    port,
    cut,
    async restore() {
      if (!server) await listen(port);
    },
    close: cut,
  };
}

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Listening {
  url: string;
  port: number;
  /** Closes the server and any keep-alive connections it still holds; later calls wait for the same close. */
  stop(): Promise<void>;
}

/** Listens on loopback (port 0 = a free one) and returns where, plus a stop that never hangs on idle sockets. */
export async function listenOnLoopback(server: Server, port = 0): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    // idempotent: a test may stop an emulator early (an outage) and its stack stops it again
    stop: () =>
      (stopped ??= new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      })),
  };
}

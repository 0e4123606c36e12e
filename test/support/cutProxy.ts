import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectionStringFor } from '../../dev/support/azurite';

/**
 * A crash of an invocation at its n-th storage round trip, as the storage sees it: requests to
 * Azurite (tables and queues) pass through this proxy; the first `n` are forwarded, and from the
 * n-th on nothing reaches storage again (requests are held unanswered, as for a process that
 * died mid-call). Every round trip counts, including each transaction and claim call inside a
 * store method, so a cut can fall between any two of them. `release()` fails the held requests
 * once the test is done with the dead invocation (the SDK's retries then find the proxy closed).
 */
export interface CutProxy {
  connectionString: string;
  /** round trips seen (forwarded + held) */
  calls(): number;
  /** resolves once the cut happened (the n-th round trip arrived) */
  cut: Promise<void>;
  release(): Promise<void>;
}

export async function startCutProxy(azurite: { tablePort: number; queuePort: number }, n: number, counter = { calls: 0 }): Promise<CutProxy> {
  const held: http.ServerResponse[] = [];
  let onCut: () => void = () => undefined;
  const cut = new Promise<void>((resolve) => (onCut = resolve));
  const serve = (port: number) =>
    http.createServer((req, res) => {
      if (counter.calls++ >= n) {
        held.push(res);
        onCut();
        req.resume();
        return;
      }
      const upstream = http.request({ host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
  const servers = [serve(azurite.tablePort), serve(azurite.queuePort)];
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))));
  const [tablePort, queuePort] = servers.map((s) => (s.address() as AddressInfo).port) as [number, number];
  return {
    connectionString: connectionStringFor(tablePort, queuePort),
    calls: () => counter.calls,
    cut,
    async release() {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              for (const res of held) res.destroy();
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}

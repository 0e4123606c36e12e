/**
 * A minimal notification endpoint for tests and benchmarks that run the Graph emulator
 * without the functions host: answers the handshake as told and acknowledges
 * notifications with 202 (or after a delay, to exercise Graph's deadline).
 */
import http from 'node:http';
import { listenOnLoopback } from '../../support/listen';
import { parseJson, readBody } from './http';

/** How the stand-in endpoint answers Graph's validation handshake. */
export type HandshakeMode = 'echo' | 'wrong-token' | 'json' | 'error';

export interface NotificationReceiver {
  url: string;
  port: number;
  /** validation tokens received (decoded) */
  validations: string[];
  /** JSON bodies of change and lifecycle notifications received */
  notifications: Array<{ value: Array<Record<string, unknown>> }>;
  setHandshake(mode: HandshakeMode): void;
  /** answer notifications after this many ms (default 0) */
  setDelay(ms: number): void;
  stop(): Promise<void>;
}

export async function startNotificationReceiver(options: { port?: number; handshake?: HandshakeMode } = {}): Promise<NotificationReceiver> {
  let mode: HandshakeMode = options.handshake ?? 'echo';
  let delayMs = 0;
  const validations: string[] = [];
  const notifications: NotificationReceiver['notifications'] = [];
  const server = http.createServer((req, res) => {
    readBody(req).then((text) => {
      const token = new URL(req.url ?? '/', 'http://receiver').searchParams.get('validationToken');
      if (token === null) {
        const body = parseJson(text);
        if (typeof body === 'object' && body !== null) notifications.push(body as NotificationReceiver['notifications'][number]);
        if (delayMs > 0) setTimeout(() => res.writeHead(202).end(), delayMs);
        else res.writeHead(202).end();
        return;
      }
      validations.push(token);
      if (mode === 'echo') res.writeHead(200, { 'content-type': 'text/plain' }).end(token);
      else if (mode === 'wrong-token') res.writeHead(200, { 'content-type': 'text/plain' }).end(`${token}x`);
      else if (mode === 'json') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(token));
      else res.writeHead(500).end();
    }, () => res.destroy());
  });
  const listening = await listenOnLoopback(server, options.port ?? 0);
  return {
    url: `${listening.url}/api/notifications/graph`,
    port: listening.port,
    validations,
    notifications,
    setHandshake: (next) => {
      mode = next;
    },
    setDelay: (ms) => {
      delayMs = ms;
    },
    stop: listening.stop,
  };
}

import { randomBytes } from 'node:crypto';
import { listenOnLoopback } from '../support/listen';
import http from 'node:http';

/**
 * A plain-HTTP stand-in for Azure Key Vault's secrets API, good enough for the real
 * `SecretClient` (with allowInsecureConnection + disableChallengeResourceVerification and a
 * fake TokenCredential): it answers the unauthenticated first request with the bearer
 * challenge, then serves `GET /secrets/{name}/{version?}`. Any bearer token is accepted —
 * what is under test is the client's caching, versioning and throttling behaviour.
 */
export interface FakeKeyVault {
  url: string;
  port: number;
  /** Creates a new version of the secret; returns the version id. */
  setSecret(name: string, value: string): string;
  /** The next `count` authenticated requests fail with `status` (429 carries Retry-After). */
  failNext(status: number, count: number, retryAfterSeconds?: number): void;
  /** Authenticated secret reads served or failed so far (the challenge round trip is not counted). */
  requestCount(): number;
  stop(): Promise<void>;
}

interface SecretVersion {
  value: string;
  version: string;
  created: number;
}

const CHALLENGE = 'Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000", resource="https://vault.azure.net"';

export async function startFakeKeyVault(options: { port?: number } = {}): Promise<FakeKeyVault> {
  const secrets = new Map<string, SecretVersion[]>();
  const failures: Array<{ status: number; retryAfterSeconds: number }> = [];
  let reads = 0;
  let url = '';

  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    req.resume();
    if (!/^Bearer \S+/.test(req.headers.authorization ?? '')) {
      send(401, { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } }, { 'www-authenticate': CHALLENGE });
      return;
    }
    reads += 1;
    const failure = failures.shift();
    if (failure) {
      const headers: Record<string, string> = failure.status === 429 ? { 'retry-after': String(failure.retryAfterSeconds) } : {};
      send(failure.status, { error: { code: failure.status === 429 ? 'Throttled' : 'InternalServerError', message: 'Injected failure.' } }, headers);
      return;
    }
    const match = /^\/secrets\/([0-9A-Za-z-]+)(?:\/([0-9a-f]*))?\/?$/.exec(new URL(req.url ?? '/', url).pathname);
    if (req.method !== 'GET' || !match) {
      send(404, { error: { code: 'NotFound', message: 'Only GET /secrets/{name}/{version?} is emulated.' } });
      return;
    }
    const [, name = '', version] = match;
    const versions = secrets.get(name) ?? [];
    const found = version ? versions.find((v) => v.version === version) : versions[versions.length - 1];
    if (!found) {
      send(404, { error: { code: 'SecretNotFound', message: `A secret with (name/id) ${name} was not found in this key vault.` } });
      return;
    }
    send(200, {
      value: found.value,
      id: `${url}/secrets/${name}/${found.version}`,
      attributes: { enabled: true, created: found.created, updated: found.created, recoveryLevel: 'Recoverable+Purgeable' },
    });
  });

  const listening = await listenOnLoopback(server, options.port ?? 0);
  url = listening.url;

  return {
    ...listening,
    setSecret(name, value) {
      const version = randomBytes(16).toString('hex');
      const versions = secrets.get(name) ?? [];
      versions.push({ value, version, created: Math.floor(Date.now() / 1000) });
      secrets.set(name, versions);
      return version;
    },
    failNext(status, count, retryAfterSeconds = 1) {
      for (let i = 0; i < count; i += 1) failures.push({ status, retryAfterSeconds });
    },
    requestCount: () => reads,
  };
}

/**
 * A stub Vantagepoint for contract tests: answers only what a test hands it (Deltek's documented
 * samples, test/fixtures/vantagepoint/), records every request, and 404s anything else. What
 * passes against it is the client's reading of Deltek's shapes, not the emulator's leniency.
 */
import { environmentSecretMap, EnvironmentSecretSource } from '../../shared/adapters/secrets';
import { createVantagepointDirectory, type VantagepointDirectoryOptions } from '../../shared/adapters/vantagepoint';
import { parseConfig } from '../../shared/config';

export const STUB_BASE = 'https://vp.example.com/acme';

export interface StubAnswer {
  status: number;
  body: unknown;
}
export type StubHandler = (path: string, query: URLSearchParams, form: URLSearchParams | null) => StubAnswer | undefined;
export interface StubRequest {
  path: string;
  query: URLSearchParams;
  form: URLSearchParams | null;
}

export function stubConfig(overrides: Record<string, string> = {}) {
  return parseConfig({
    CONNECT_ENVIRONMENT: 'development',
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    VANTAGEPOINT_BASE_URL: STUB_BASE,
    VANTAGEPOINT_DATABASE: 'AcmeDB',
    VANTAGEPOINT_CLIENT_ID: 'client-1',
    VANTAGEPOINT_SERVICE_USERNAME: 'SVC',
    VANTAGEPOINT_CLIENT_SECRET: 'secret-1',
    VANTAGEPOINT_SERVICE_PASSWORD: 'svc-password',
    CONNECT_ADMIN_USERS: 'admin',
    SESSION_SIGNING_KEYS: 'contract-test-session-signing-key-0123456789',
    GRAPH_NOTIFICATION_URL: 'https://app.example.com/api/notifications/graph',
    ...overrides,
  });
}

/** A stub Vantagepoint under STUB_BASE: paths are given to `handler` without `/acme/api`. */
export function stub(handler: StubHandler) {
  const requests: StubRequest[] = [];
  const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const path = url.pathname.replace('/acme/api', '');
    const form = typeof init?.body === 'string' ? new URLSearchParams(init.body) : null;
    requests.push({ path, query: url.searchParams, form });
    const answer = handler(path, url.searchParams, form) ?? { status: 404, body: { message: 'Not found.', detail: path } };
    return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  return { fetchImpl, requests };
}

/** The real client (createVantagepointDirectory) over a stub's fetch. */
export function stubDirectory(fetchImpl: typeof fetch, overrides: Record<string, string> = {}, options: VantagepointDirectoryOptions = {}) {
  const c = stubConfig(overrides);
  const env = { VANTAGEPOINT_CLIENT_SECRET: 'secret-1', VANTAGEPOINT_SERVICE_PASSWORD: 'svc-password' };
  return createVantagepointDirectory(c, new EnvironmentSecretSource(environmentSecretMap(c), env), { fetch: fetchImpl, ...options });
}

import { clientStateKeysFor, createSecretSource } from '../../shared/adapters/secrets';
import { parseConfig } from '../../shared/config';
import type { EmployeeFacts } from '../../shared/domain/model';
import type { VantagepointDirectory } from '../../shared/ports';

/**
 * Settings for tests that run the operations in-process over Azurite with an in-memory provider
 * (test/support/fakeGraph.ts): nothing listens at the Vantagepoint and Graph addresses.
 */
export function offlineSettings(connection: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    CONNECT_ENVIRONMENT: 'development',
    AzureWebJobsStorage: connection,
    VANTAGEPOINT_BASE_URL: 'http://127.0.0.1:1',
    VANTAGEPOINT_CLIENT_ID: 'connect-local',
    VANTAGEPOINT_SERVICE_USERNAME: 'svc',
    VANTAGEPOINT_CLIENT_SECRET: 'unused',
    VANTAGEPOINT_SERVICE_PASSWORD: 'unused',
    GRAPH_BASE_URL: 'http://127.0.0.1:1/v1.0',
    GRAPH_AUTHORITY_HOST: 'http://127.0.0.1:1',
    GRAPH_TENANT_ID: 'tenant',
    GRAPH_CLIENT_ID: 'client',
    GRAPH_CLIENT_SECRET_NAME: 'graph-client-secret',
    GRAPH_CLIENT_SECRET: 'unused',
    GRAPH_NOTIFICATION_URL: 'https://example.test/api/notifications/graph',
    ...overrides,
  };
}

/** A directory where every employee exists and is active; `emailOf` decides their mailbox ('' = none). */
export function directoryOf(emailOf: (employeeId: string) => string): VantagepointDirectory {
  return {
    async employeeFacts(ids) {
      return new Map(ids.map((id): [string, EmployeeFacts] => [id, { employeeId: id, exists: true, name: id, email: emailOf(id), employeeStatus: 'A', user: { username: id, active: true } }]));
    },
    async checkCredentials() {
      return { ok: true, message: 'ok' };
    },
    authenticate: () => Promise.reject(new Error('not used')),
    checkCaller: () => Promise.reject(new Error('not used')),
    whoAmI: () => Promise.reject(new Error('not used')),
    health: () => ({ ok: true }) as unknown as ReturnType<VantagepointDirectory['health']>,
    refreshCredentials: () => Promise.reject(new Error('not used')),
  };
}

/** The configuration, secret source and clientState keys an offline test's operations run with. */
export function offlineServices(connection: string, overrides: Record<string, string> = {}) {
  const env = offlineSettings(connection, overrides);
  const config = parseConfig(env);
  const secrets = createSecretSource(config, { env });
  return { config, secrets, clientStateKeys: clientStateKeysFor(config, secrets) };
}

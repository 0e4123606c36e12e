import { ConfigError, parseConfig } from '../../shared/config';

const minimal = {
  CONNECT_ENVIRONMENT: 'development',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  VANTAGEPOINT_BASE_URL: 'http://127.0.0.1:7072/',
  VANTAGEPOINT_CLIENT_ID: 'connect-local',
  VANTAGEPOINT_SERVICE_USERNAME: 'connect-service',
  VANTAGEPOINT_CLIENT_SECRET: 'local-dev-secret',
  VANTAGEPOINT_SERVICE_PASSWORD: 'connect-service',
  SESSION_SIGNING_KEYS: 'unit-test-session-signing-key-0123456789',
  GRAPH_NOTIFICATION_URL: 'http://127.0.0.1:7071/api/notifications/graph',
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('configuration', () => {
  it('parses a minimal development configuration with defaults', () => {
    const config = parseConfig(minimal);
    expect(config.VANTAGEPOINT_BASE_URL).toBe('http://127.0.0.1:7072');
    expect(config.GRAPH_RESOURCES).toEqual(['events', 'contacts', 'messages']);
    expect(config.CONNECT_ADMIN_ROLES).toEqual(['ADMIN']);
    expect(config.RECONCILE_SCHEDULE).toBe('0 */5 * * * *');
  });

  it('names every missing required setting', () => {
    const problems = problemsOf({});
    for (const name of ['VANTAGEPOINT_BASE_URL', 'VANTAGEPOINT_CLIENT_ID', 'VANTAGEPOINT_SERVICE_USERNAME', 'GRAPH_NOTIFICATION_URL']) {
      expect(problems.some((p) => p.startsWith(`${name}:`))).toBe(true);
    }
  });

  it('names a malformed setting', () => {
    expect(problemsOf({ ...minimal, VANTAGEPOINT_BASE_URL: 'not a url' })[0]).toMatch(/^VANTAGEPOINT_BASE_URL:/);
    expect(problemsOf({ ...minimal, GRAPH_RESOURCES: 'events,calendars' })[0]).toMatch(/^GRAPH_RESOURCES/);
    expect(problemsOf({ ...minimal, CALLER_CACHE_SECONDS: '-1' })[0]).toMatch(/^CALLER_CACHE_SECONDS:/);
  });

  it('requires storage and, outside development, Key Vault', () => {
    const { AzureWebJobsStorage: _s, ...noStorage } = minimal;
    expect(problemsOf(noStorage)[0]).toMatch(/^AzureWebJobsStorage:/);
    expect(problemsOf({ ...minimal, CONNECT_ENVIRONMENT: 'production' }).some((p) => p.startsWith('KEY_VAULT_URL:'))).toBe(true);
  });

  it('refuses a renewal margin that is not shorter than the lifetime', () => {
    const problems = problemsOf({ ...minimal, SUBSCRIPTION_LIFETIME_MINUTES: '60', SUBSCRIPTION_RENEWAL_MARGIN_MINUTES: '60' });
    expect(problems[0]).toMatch(/^SUBSCRIPTION_RENEWAL_MARGIN_MINUTES:/);
  });

  it('detects an unresolved Key Vault reference', () => {
    const problems = problemsOf({ ...minimal, VANTAGEPOINT_CLIENT_SECRET: '@Microsoft.KeyVault(SecretUri=https://x.vault.azure.net/secrets/s)' });
    expect(problems[0]).toMatch(/^VANTAGEPOINT_CLIENT_SECRET: Key Vault reference/);
  });
});

/**
 * PUBLIC_URL outside development judges the Vantagepoint host by every address its name resolves
 * to (issue 7, "IP checks"): the DNS adapter, and the operation asking it for the base URL's host.
 */
import { resolveHost } from '../../shared/adapters/dns';
import { parseConfig } from '../../shared/config';
import { organisationPrerequisites } from '../../shared/operations/prerequisites';
import type { HostResolution } from '../../shared/domain/prerequisites';
import type { SecretSource, VantagepointDirectory } from '../../shared/ports';

describe('resolveHost (node:dns)', () => {
  it('gives every address a name resolves to', async () => {
    const resolved = await resolveHost('localhost');
    expect(resolved).toEqual({ addresses: expect.arrayContaining([expect.stringMatching(/^(127\.0\.0\.1|::1)$/)]) });
  });

  it('looks up no IP literal (the address itself is judged)', async () => {
    expect(await resolveHost('10.0.0.1')).toBeUndefined();
    expect(await resolveHost('[fd00::1]')).toBeUndefined();
  });

  it('reports a name that cannot resolve (RFC 6761 .invalid) as not found, or as unknown where DNS cannot be asked', async () => {
    const resolved = await resolveHost('connect-sync-test.invalid');
    expect(resolved && ('notFound' in resolved || 'unknown' in resolved)).toBe(true);
  });
});

describe('organisationPrerequisites: PUBLIC_URL by resolution', () => {
  const secrets: SecretSource = {
    kind: 'key-vault',
    get: async () => ({ value: 'secret', version: 'v1', updatedOn: null }),
    refresh: async () => ({ value: 'secret', version: 'v1', updatedOn: null }),
  };
  const directory = { checkCredentials: async () => ({ ok: true, message: 'Vantagepoint accepted the client credentials.' }) } as unknown as VantagepointDirectory;

  function config(environment: 'production' | 'development') {
    return parseConfig({
      CONNECT_ENVIRONMENT: environment,
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      KEY_VAULT_URL: 'https://connect.vault.azure.net',
      VANTAGEPOINT_BASE_URL: 'https://vp.example.com/acme',
      VANTAGEPOINT_CLIENT_ID: 'client-1',
      VANTAGEPOINT_SERVICE_USERNAME: 'svc',
      SESSION_SIGNING_KEYS: 'public-url-test-session-signing-key-0123456789',
      GRAPH_NOTIFICATION_URL: 'https://app.example.com/api/notifications/graph',
      OUTBOUND_IP_ADDRESSES: '20.1.2.3',
    });
  }

  async function publicUrl(environment: 'production' | 'development', answer: HostResolution) {
    const asked: string[] = [];
    const results = await organisationPrerequisites({
      config: config(environment),
      secrets,
      directory,
      resolveHost: async (host) => {
        asked.push(host);
        return answer;
      },
    });
    return { result: results.find((r) => r.code === 'PUBLIC_URL'), asked };
  }

  it('refuses a public-looking name that resolves to a private address, naming it', async () => {
    const { result, asked } = await publicUrl('production', { addresses: ['10.20.30.40'] });
    expect(asked).toEqual(['vp.example.com']);
    expect(result).toMatchObject({ ok: false, message: expect.stringContaining('10.20.30.40: private') });
  });

  it('passes a name whose addresses are all public', async () => {
    expect((await publicUrl('production', { addresses: ['20.1.2.3', '2606:4700::1111'] })).result?.ok).toBe(true);
  });

  it('does not look the name up in development (plain-http localhost is allowed there)', async () => {
    const { result, asked } = await publicUrl('development', { addresses: ['10.20.30.40'] });
    expect(asked).toEqual([]);
    expect(result?.ok).toBe(true);
  });
});

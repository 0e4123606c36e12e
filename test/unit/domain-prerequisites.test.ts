import fc from 'fast-check';
import type { EmployeeFacts } from '../../shared/domain/model';
import {
  MEMBER_PREREQUISITE_MESSAGES,
  blockingFailures,
  evaluateMember,
  evaluateOrganisation,
  isNonPublicHost,
  type OrganisationFacts,
} from '../../shared/domain/prerequisites';

const healthy: EmployeeFacts = {
  employeeId: 'E1',
  exists: true,
  name: 'Jane Doe',
  email: 'jane@example.com',
  employeeStatus: 'A',
  user: { username: 'JDOE', active: true },
};

describe('evaluateMember', () => {
  it('passes a healthy employee with every step reported in SPEC order', () => {
    const result = evaluateMember(healthy);
    expect(result.prerequisite).toBeNull();
    expect(result.steps.map((s) => s.code)).toEqual([
      'NO_EMPLOYEE_RECORD',
      'INVALID_EMAIL',
      'NO_USER_RECORD',
      'USER_INACTIVE',
      'EMPLOYEE_INACTIVE',
      'EMPLOYEE_TERMINATED',
    ]);
    expect(result.steps.every((s) => s.ok)).toBe(true);
  });

  it.each<[string, EmployeeFacts | undefined, string, number]>([
    ['unknown to the directory', undefined, 'NO_EMPLOYEE_RECORD', 1],
    ['no employee record', { ...healthy, exists: false }, 'NO_EMPLOYEE_RECORD', 1],
    ['an invalid email', { ...healthy, email: 'jane@' }, 'INVALID_EMAIL', 2],
    ['no user record', { ...healthy, user: null }, 'NO_USER_RECORD', 3],
    ['an inactive user', { ...healthy, user: { username: 'JDOE', active: false } }, 'USER_INACTIVE', 4],
    ['an inactive employee', { ...healthy, employeeStatus: 'I' }, 'EMPLOYEE_INACTIVE', 5],
    ['a terminated employee', { ...healthy, employeeStatus: 'T' }, 'EMPLOYEE_TERMINATED', 6],
  ])('reports %s, listing only the steps evaluated with the failing one last', (_label, facts, code, count) => {
    const result = evaluateMember(facts);
    expect(result.prerequisite).toBe(code);
    expect(result.message).toBe(MEMBER_PREREQUISITE_MESSAGES[code as keyof typeof MEMBER_PREREQUISITE_MESSAGES]);
    expect(result.steps).toHaveLength(count);
    expect(result.steps[count - 1]).toEqual({ code, ok: false, message: result.message });
    expect(result.steps.slice(0, -1).every((s) => s.ok)).toBe(true);
  });

  it('reports the earliest failure when several fail at once', () => {
    const result = evaluateMember({ ...healthy, email: 'nope', user: null, employeeStatus: 'T' });
    expect(result.prerequisite).toBe('INVALID_EMAIL');
  });

  it("stops an inactive ('I') employee even with an active user: Connect cannot provision them", () => {
    expect(evaluateMember({ ...healthy, employeeStatus: 'I' }).prerequisite).toBe('EMPLOYEE_INACTIVE');
    expect(evaluateMember({ ...healthy, employeeStatus: 'A' }).prerequisite).toBeNull();
  });

  it('names the Vantagepoint place to fix user-record problems', () => {
    expect(MEMBER_PREREQUISITE_MESSAGES.NO_USER_RECORD).toContain('Settings > Security > Users');
    expect(MEMBER_PREREQUISITE_MESSAGES.USER_INACTIVE).toContain('Settings > Security > Users');
  });
});

const productionFacts: OrganisationFacts = {
  environment: 'production',
  baseUrl: 'https://acme.deltekfirst.com/acme',
  authMode: 'vantagepoint',
  clientIdConfigured: true,
  secret: { ok: true, message: 'read' },
  tokenEndpoint: { ok: true, message: 'token issued' },
  outboundIps: ['20.1.2.3', '20.1.2.4'],
};

const codeResult = (facts: OrganisationFacts, code: string) => evaluateOrganisation(facts).find((r) => r.code === code);

describe('isNonPublicHost', () => {
  it.each([
    'localhost', 'api.localhost', 'vp.local', 'LOCALHOST.', '127.0.0.1', '127.8.9.1', '10.0.0.5', '172.16.0.1', '172.31.255.255',
    '192.168.1.1', '169.254.169.254', '100.64.0.1', '100.127.255.255', '0.0.0.0', '[::1]', '::', 'fc00::1', 'fd12:3456::1',
    'fe80::1', 'febf::1', '::ffff:10.0.0.1', '[::ffff:c0a8:101]',
    // reserved ranges beyond the private ones (ipaddr.js's table): documentation, benchmarking, 240/4, multicast, site-local
    '192.0.2.10', '198.51.100.7', '203.0.113.9', '198.18.0.1', '240.0.0.1', '255.255.255.255', '224.0.0.1', '2001:db8::1', 'fec0::1', 'ff02::1',
    // IPv6 outside 2000::/3 (IANA's only global unicast allocation): IPv4-compatible, NAT64, unallocated IETF space
    '::127.0.0.1', '[::7f00:1]', '::10.0.0.1', '64:ff9b::a00:1', '100::1', '4000::1', 'e000::1', '1::1',
    // written the ways a URL parser or inet_aton accepts them
    '127.1', '0x7f.0.0.1', '2130706433',
  ])('%s is not public', (host) => {
    expect(isNonPublicHost(host)).toBe(true);
  });

  it.each(['acme.deltekfirst.com', '8.8.8.8', '172.15.255.255', '172.32.0.1', '100.128.0.1', '192.169.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    '%s is public',
    (host) => {
      expect(isNonPublicHost(host)).toBe(false);
    },
  );

  it('judges an IPv6 address public only inside 2000::/3 (property)', () => {
    const hextet = fc.integer({ min: 0, max: 0xffff });
    fc.assert(
      fc.property(fc.array(hextet, { minLength: 8, maxLength: 8 }), (parts) => {
        const address = parts.map((p) => p.toString(16)).join(':');
        if (parts[0] === undefined || parts[0] < 0x2000 || parts[0] > 0x3fff) expect(isNonPublicHost(address)).toBe(true);
      }),
    );
  });

  it('classifies every 10/8 and 192.168/16 IPv4 address as private (property)', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    fc.assert(
      fc.property(octet, octet, octet, (a, b, c) => {
        expect(isNonPublicHost(`10.${a}.${b}.${c}`)).toBe(true);
        expect(isNonPublicHost(`192.168.${b}.${c}`)).toBe(true);
      }),
    );
  });
});

describe('evaluateOrganisation', () => {
  it('passes a public HTTPS deployment, in SPEC order', () => {
    const results = evaluateOrganisation(productionFacts);
    expect(results.map((r) => r.code)).toEqual(['PUBLIC_URL', 'WINDOWS_AUTH', 'API_CLIENT', 'IP_ALLOWLIST']);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(codeResult(productionFacts, 'IP_ALLOWLIST')?.message).toContain('20.1.2.3, 20.1.2.4');
    expect(blockingFailures(results)).toEqual([]);
  });

  it.each(['http://acme.deltekfirst.com', 'https://localhost:8443', 'https://10.1.2.3/vp', 'https://[fe80::1]/', 'https://vp.local', 'not a url'])(
    'refuses %s as PUBLIC_URL in production',
    (baseUrl) => {
      const result = codeResult({ ...productionFacts, baseUrl }, 'PUBLIC_URL');
      expect(result?.ok).toBe(false);
    },
  );

  describe('a host name judged by what it resolves to (outside development)', () => {
    it('refuses a public-looking name that resolves to any address that is not public, naming it', () => {
      const resolved = { addresses: ['20.1.2.3', '10.0.0.7'] };
      const result = codeResult({ ...productionFacts, resolved }, 'PUBLIC_URL');
      expect(result).toMatchObject({ ok: false, message: expect.stringContaining('10.0.0.7: private') });
      expect(result?.unknown).toBeUndefined();
      expect(codeResult({ ...productionFacts, resolved: { addresses: ['::ffff:127.0.0.1'] } }, 'PUBLIC_URL')?.ok).toBe(false);
      expect(codeResult({ ...productionFacts, resolved: { addresses: ['fd00::1'] } }, 'PUBLIC_URL')?.ok).toBe(false);
    });

    it('refuses a name that does not resolve, and reports DNS not answering as unknown', () => {
      expect(codeResult({ ...productionFacts, resolved: { notFound: true, message: 'ENOTFOUND' } }, 'PUBLIC_URL')).toMatchObject({
        ok: false,
        message: expect.stringContaining('does not resolve'),
      });
      expect(codeResult({ ...productionFacts, resolved: { unknown: true, message: 'EAI_AGAIN' } }, 'PUBLIC_URL')).toEqual({
        code: 'PUBLIC_URL',
        ok: false,
        unknown: true,
        message: expect.stringMatching(/^Could not check: .*EAI_AGAIN/),
      });
    });

    it('passes a name whose every address is public', () => {
      expect(codeResult({ ...productionFacts, resolved: { addresses: ['20.1.2.3', '2606:4700::1111'] } }, 'PUBLIC_URL')?.ok).toBe(true);
    });
  });

  it('allows http and loopback hosts in development', () => {
    const dev: OrganisationFacts = { ...productionFacts, environment: 'development', baseUrl: 'http://127.0.0.1:7071' };
    expect(codeResult(dev, 'PUBLIC_URL')?.ok).toBe(true);
  });

  it('fails PUBLIC_URL and API_CLIENT when the token request fails, even for a public URL', () => {
    const facts = { ...productionFacts, tokenEndpoint: { ok: false, message: 'invalid_client' } };
    expect(codeResult(facts, 'PUBLIC_URL')?.ok).toBe(false);
    expect(codeResult(facts, 'API_CLIENT')?.message).toContain('invalid_client');
  });

  it('fails WINDOWS_AUTH for Windows authentication', () => {
    expect(codeResult({ ...productionFacts, authMode: 'windows' }, 'WINDOWS_AUTH')?.ok).toBe(false);
  });

  it('fails API_CLIENT without a client id or a readable secret', () => {
    expect(codeResult({ ...productionFacts, clientIdConfigured: false }, 'API_CLIENT')?.message).toContain('API Authorization');
    const unreadable = { ...productionFacts, secret: { ok: false, message: 'Key Vault denied access' } };
    expect(codeResult(unreadable, 'API_CLIENT')?.message).toContain('Key Vault denied access');
  });

  it('flags missing outbound addresses in production without blocking enabling', () => {
    const results = evaluateOrganisation({ ...productionFacts, outboundIps: [] });
    expect(results.find((r) => r.code === 'IP_ALLOWLIST')?.ok).toBe(false);
    expect(blockingFailures(results)).toEqual([]);
    const dev = evaluateOrganisation({ ...productionFacts, environment: 'development', outboundIps: [] });
    expect(dev.find((r) => r.code === 'IP_ALLOWLIST')?.ok).toBe(true);
  });

  it('returns every other failure as blocking, in order', () => {
    const results = evaluateOrganisation({ ...productionFacts, authMode: 'windows', clientIdConfigured: false, outboundIps: [] });
    expect(blockingFailures(results).map((r) => r.code)).toEqual(['WINDOWS_AUTH', 'API_CLIENT']);
  });
});

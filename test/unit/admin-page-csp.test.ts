import { ConfigError, parseConfig } from '../../shared/config';
import { contentSecurityPolicy } from '../../shared/http/staticSite';

const minimal = {
  CONNECT_ENVIRONMENT: 'development',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  VANTAGEPOINT_BASE_URL: 'http://127.0.0.1:7072/',
  VANTAGEPOINT_CLIENT_ID: 'connect-local',
  VANTAGEPOINT_SERVICE_USERNAME: 'connect-service',
  VANTAGEPOINT_CLIENT_SECRET: 'local-dev-secret',
  VANTAGEPOINT_SERVICE_PASSWORD: 'connect-service',
  GRAPH_NOTIFICATION_URL: 'http://127.0.0.1:7071/api/notifications/graph',
};

const frameAncestors = (value: string) => parseConfig({ ...minimal, ADMIN_PAGE_FRAME_ANCESTORS: value }).ADMIN_PAGE_FRAME_ANCESTORS;

describe('ADMIN_PAGE_FRAME_ANCESTORS', () => {
  it('defaults to none (the page frames only itself)', () => {
    expect(parseConfig(minimal).ADMIN_PAGE_FRAME_ANCESTORS).toEqual([]);
  });

  it.each([
    ['https://acme.deltekfirst.com', ['https://acme.deltekfirst.com']],
    ['https://*.deltekfirst.com', ['https://*.deltekfirst.com']],
    ['https://vp.example.com:8443, https://acme.deltekfirst.com', ['https://vp.example.com:8443', 'https://acme.deltekfirst.com']],
    ['http://127.0.0.1:7072 https://a.test', ['http://127.0.0.1:7072', 'https://a.test']],
  ])('accepts %s', (value, origins) => {
    expect(frameAncestors(value)).toEqual(origins);
  });

  // Anything else could smuggle another directive into the policy or allow every site.
  it.each(['*', "'none'", "https://a.test; script-src *", 'https://acme.test/path', 'javascript:alert(1)', "'unsafe-inline'", 'acme.test', 'https://*'])(
    'refuses %s, naming the setting',
    (value) => {
      expect(() => frameAncestors(value)).toThrow(ConfigError);
      expect(() => frameAncestors(value)).toThrow(/ADMIN_PAGE_FRAME_ANCESTORS/);
    },
  );
});

describe('the admin page Content-Security-Policy', () => {
  it('allows only this origin, no inline script or style, and frames as configured', () => {
    const csp = contentSecurityPolicy(['https://acme.deltekfirst.com']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'self' https://acme.deltekfirst.com");
    expect(csp).not.toMatch(/unsafe|\*/);
    expect(contentSecurityPolicy([])).toMatch(/frame-ancestors 'self'$/);
  });
});

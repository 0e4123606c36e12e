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
  it("defaults to 'self'", () => {
    expect(parseConfig(minimal).ADMIN_PAGE_FRAME_ANCESTORS).toBe("'self'");
  });

  it.each(["'none'", "'self'", "'self' https://acme.deltekfirst.com", 'https://*.deltekfirst.com', "https://vp.example.com:8443 'self'"])('accepts %s', (value) => {
    expect(frameAncestors(value)).toBe(value);
  });

  // Anything else could smuggle another directive into the policy or allow every site.
  it.each(['*', "'none' 'self'", "'self'; script-src *", 'https://acme.test/path', 'javascript:alert(1)', "'unsafe-inline'", 'acme.test'])('refuses %s, naming the setting', (value) => {
    expect(() => frameAncestors(value)).toThrow(ConfigError);
    expect(() => frameAncestors(value)).toThrow(/ADMIN_PAGE_FRAME_ANCESTORS/);
  });
});

describe('the admin page Content-Security-Policy', () => {
  it('allows only this origin, no inline script or style, and frames as configured', () => {
    const csp = contentSecurityPolicy("'self' https://acme.deltekfirst.com");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'self' https://acme.deltekfirst.com");
    expect(csp).not.toMatch(/unsafe|\*/);
  });
});

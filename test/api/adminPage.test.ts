import { startStack, type Stack } from '../support/stack';

/**
 * How the function app serves the admin page (functions/adminPage.ts): content types,
 * caching, the Content-Security-Policy with its configurable frame-ancestors, and
 * nothing outside the bundle.
 */
let stack: Stack;
let pageUrl: string;

beforeAll(async () => {
  stack = await startStack({ ADMIN_PAGE_FRAME_ANCESTORS: 'https://acme.deltekfirst.com' });
  pageUrl = `${stack.baseUrl}/connect-admin/`;
});

afterAll(async () => {
  await stack?.stop();
});

function assetNames(html: string): { script: string; style: string } {
  const script = /<script type="module" src="([^"]+)"/.exec(html)?.[1];
  const style = /<link rel="stylesheet" href="([^"]+)"/.exec(html)?.[1];
  if (!script || !style) throw new Error(`index.html names no script or style sheet:\n${html}`);
  return { script, style };
}

it('serves index.html revalidated on every load, under a strict CSP framed only as configured', async () => {
  const res = await fetch(pageUrl);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(res.headers.get('cache-control')).toBe('no-cache');
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  const csp = res.headers.get('content-security-policy') ?? '';
  const directives = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values.join(' ')]));
  expect(directives).toMatchObject({
    'default-src': "'none'",
    'script-src': "'self'",
    'style-src': "'self'",
    'connect-src': "'self'",
    'base-uri': "'none'",
    'frame-ancestors': "'self' https://acme.deltekfirst.com",
  });
  expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
  const html = await res.text();
  // No inline script: the only script is the bundle, loaded from this origin.
  expect(html.match(/<script/g)).toHaveLength(1);
  expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
});

it('serves the hashed bundle with its content type, cached for a year, and answers 304 to a matching ETag', async () => {
  const { script, style } = assetNames(await (await fetch(pageUrl)).text());
  for (const [name, type] of [
    [script, 'text/javascript; charset=utf-8'],
    [style, 'text/css; charset=utf-8'],
  ] as const) {
    const res = await fetch(`${pageUrl}${name}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(type);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    const again = await fetch(`${pageUrl}${name}`, { headers: { 'if-none-match': res.headers.get('etag') ?? '' } });
    expect(again.status).toBe(304);
  }
  const icon = await fetch(`${pageUrl}favicon.svg`);
  expect(icon.headers.get('content-type')).toBe('image/svg+xml');
});

it('answers HEAD with the headers of GET and no body', async () => {
  const res = await fetch(pageUrl, { method: 'HEAD' });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(await res.text()).toBe('');
});

it('redirects the bare path to the folder, so relative asset URLs resolve', async () => {
  const res = await fetch(`${stack.baseUrl}/connect-admin`, { redirect: 'manual' });
  expect(res.status).toBe(308);
  expect(res.headers.get('location')).toBe('/api/connect-admin/');
});

it.each(['missing.js', '..%2Fpackage.json', '..%2F..%2Fhost.json', 'build.js', '.hidden'])('answers 404 (a problem) for %s', async (name) => {
  const res = await fetch(`${pageUrl}${name}`);
  expect(res.status).toBe(404);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
});

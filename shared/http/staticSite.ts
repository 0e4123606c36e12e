import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { problem } from './problem';

/**
 * Serves the admin page's bundled files (dist/web/public, built by web/build.ts) from
 * memory: a flat folder, so a name is one path segment and nothing outside it can be
 * named. Hashed assets are immutable for a year; index.html is revalidated on every
 * load so a deployment takes effect at once.
 */
export interface StaticSiteOptions {
  /** folder holding index.html and the hashed assets */
  dir: string;
  /** origins allowed to frame the page besides this one (ADMIN_PAGE_FRAME_ANCESTORS) */
  frameAncestors: () => readonly string[];
}

interface Asset {
  body: Buffer;
  contentType: string;
  etag: string;
  immutable: boolean;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
};

/** esbuild's [name]-[hash] entry names: the content decides the name. */
const HASHED = /-[A-Z0-9]{8,}\.(?:js|css|map)$/;
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Strict by default: only this origin's own script and styles, API calls to this origin,
 * no plugins, no inline script or style, forms only to this origin, framing only as configured.
 */
export function contentSecurityPolicy(frameAncestors: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${["'self'", ...frameAncestors].join(' ')}`,
  ].join('; ');
}

export function staticSiteHandler(options: StaticSiteOptions): (req: HttpRequest) => Promise<HttpResponseInit> {
  let assets: Map<string, Asset> | undefined;
  const load = (): Map<string, Asset> => {
    assets ??= readAssets(options.dir);
    return assets;
  };
  return async (req) => {
    const requestId = randomUUID();
    const url = new URL(req.url);
    const name = req.params.path ?? '';
    // Relative asset URLs need the trailing slash: /api/connect-admin → /api/connect-admin/
    if (name === '' && !url.pathname.endsWith('/')) {
      return { status: 308, headers: { location: `${url.pathname}/${url.search}`, 'cache-control': 'no-cache' } };
    }
    const asset = SAFE_NAME.test(name) || name === '' ? load().get(name === '' ? 'index.html' : name) : undefined;
    if (!asset) return problem(404, 'NOT_FOUND', `The admin page has no file '${name.slice(0, 128)}'.`, requestId);
    const headers: Record<string, string> = {
      'content-type': asset.contentType,
      'cache-control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      etag: asset.etag,
      'content-security-policy': contentSecurityPolicy(options.frameAncestors()),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cross-origin-resource-policy': 'same-origin',
      'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
    };
    if (req.headers.get('if-none-match') === asset.etag) return { status: 304, headers };
    return { status: 200, headers, body: asset.body };
  };
}

function readAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!fs.existsSync(dir)) return assets;
  for (const file of fs.readdirSync(dir)) {
    const contentType = CONTENT_TYPES[path.extname(file)];
    if (!contentType || !SAFE_NAME.test(file)) continue;
    const body = fs.readFileSync(path.join(dir, file));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    assets.set(file, { body, contentType, etag, immutable: HASHED.test(file) });
  }
  return assets;
}

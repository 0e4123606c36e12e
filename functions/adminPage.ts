import '../shared/startup';
import path from 'node:path';
import { loadConfig } from '../shared/config';
import { defineHttp } from '../shared/functionRegistry';
import { staticSiteHandler } from '../shared/http/staticSite';

/**
 * The Connect Administration page (web/, bundled into dist/web/public by `npm run build`).
 * Anonymous: the files hold no data; every API call the page makes is authenticated.
 * Not under /admin: the Functions host reserves that path for its own admin API.
 */
defineHttp('admin-page', {
  methods: ['GET', 'HEAD'],
  route: 'connect-admin/{*path}',
  authLevel: 'anonymous',
  handler: staticSiteHandler({
    dir: path.join(__dirname, '..', 'web', 'public'),
    frameAncestors: () => loadConfig().ADMIN_PAGE_FRAME_ANCESTORS,
  }),
});

import '../shared/startup';
import * as api from '../shared/api/endpoints';
import { openApiDocument } from '../shared/api/openapi';
import { defineHttp } from '../shared/functionRegistry';
import { httpHandler } from '../shared/http/endpoint';

// Liveness must not depend on storage or Vantagepoint: it answers from the process alone.
defineHttp(api.health.name, {
  methods: [api.health.method],
  route: api.health.route,
  authLevel: 'anonymous',
  handler: httpHandler(api.health, async (_input, ctx) => ({ status: 200, body: { status: 'ok', time: ctx.now.toISOString() } })),
});

let document: string | undefined;
defineHttp(api.openapi.name, {
  methods: [api.openapi.method],
  route: api.openapi.route,
  authLevel: 'anonymous',
  handler: httpHandler(api.openapi, async () => {
    document ??= JSON.stringify(openApiDocument(api.ALL_ENDPOINTS, process.env.npm_package_version ?? '0.1.0'));
    return { status: 200, body: document, headers: { 'content-type': 'application/json' } };
  }),
});

import { z } from 'zod';
import type { Endpoint } from '../http/endpoint';

type JsonSchema = Record<string, unknown>;
const ref = (id: string) => `#/components/schemas/${id}`;

function clean(schema: JsonSchema): JsonSchema {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest;
}

/**
 * A schema converted on its own names registered schemas it contains as `#/$defs/X`, which
 * resolves nowhere inside an OpenAPI parameter: every registered schema is a component, so
 * the reference points there and the local `$defs` go.
 */
function componentRefs(schema: JsonSchema): JsonSchema {
  const { $defs: _d, ...rest } = clean(schema);
  return JSON.parse(JSON.stringify(rest).replace(/"#\/\$defs\/([^"]+)"/g, (_m, id: string) => JSON.stringify(ref(id)))) as JsonSchema;
}

function refOrInline(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const id = z.globalRegistry.get(schema)?.id;
  if (id) return { $ref: ref(id) };
  return clean(z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema);
}

function parameters(schema: z.ZodType | undefined, location: 'path' | 'query'): JsonSchema[] {
  if (!(schema instanceof z.ZodObject)) return [];
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, prop]) => ({
    name,
    in: location,
    required: location === 'path' || !prop.safeParse(undefined).success,
    schema: componentRefs(z.toJSONSchema(prop, { io: 'input', unrepresentable: 'any' }) as JsonSchema),
  }));
}

/** Any one of: the session token; the session cookie (+ X-CSRF-Token on writes); the admin form's key + acting user. */
const ADMIN_SECURITY = [{ sessionBearer: [] }, { sessionCookie: [], csrfToken: [] }, { formKey: [], actingUser: [] }];

function operation(endpoint: Endpoint): JsonSchema {
  const params = [...parameters(endpoint.params, 'path'), ...parameters(endpoint.query, 'query')];
  if (endpoint.ifMatch) params.push({ name: 'If-Match', in: 'header', required: false, schema: { type: 'string' } });
  const responses = Object.fromEntries(
    Object.entries(endpoint.responses).map(([status, spec]) => {
      const mediaType = Number(status) >= 400 ? 'application/problem+json' : 'application/json';
      return [status, spec.schema ? { description: spec.description, content: { [mediaType]: { schema: refOrInline(spec.schema, 'output') } } } : { description: spec.description }];
    }),
  );
  return {
    operationId: endpoint.name,
    summary: endpoint.summary,
    tags: [endpoint.tag],
    ...(endpoint.auth === 'admin' ? { security: ADMIN_SECURITY } : { security: [] }),
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(endpoint.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: refOrInline(endpoint.body, 'input') } } } }
      : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of the given endpoints, generated from their zod schemas. */
export function openApiDocument(endpoints: readonly Endpoint[], version: string, serverUrl = '/'): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const endpoint of endpoints) {
    const path = `/api/${endpoint.route}`;
    paths[path] ??= {};
    paths[path][endpoint.method.toLowerCase()] = operation(endpoint);
  }
  const components = z.toJSONSchema(z.globalRegistry, { uri: ref, io: 'input', unrepresentable: 'any' }).schemas;
  return {
    openapi: '3.1.0',
    info: {
      title: 'Connect Sync admin API',
      version,
      description: 'Group synchronization switch and mailbox subscriptions for Deltek Vantagepoint Connect.',
    },
    // Paths carry their /api prefix, so the server is the function app's origin (relative: wherever the document is served).
    servers: [{ url: serverUrl, description: 'The function app serving this document' }],
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(components).map(([id, s]) => [id, clean(s as JsonSchema)])),
      securitySchemes: {
        sessionBearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'The service session token from POST /api/session (short-lived; rights re-checked every few minutes)',
        },
        sessionCookie: {
          type: 'apiKey',
          in: 'cookie',
          name: '__Host-connect-session',
          description:
            'The HttpOnly SameSite=Strict session cookie set by POST /api/session (named connect-session, without Secure, in development)',
        },
        csrfToken: {
          type: 'apiKey',
          in: 'header',
          name: 'X-CSRF-Token',
          description: 'The csrfToken of POST /api/session (or GET /api/session); required on cookie-authenticated POST/PUT/PATCH/DELETE',
        },
        formKey: { type: 'apiKey', in: 'header', name: 'X-Connect-Form-Key', description: "The Vantagepoint admin form's key (server to server; held in Key Vault)" },
        actingUser: { type: 'apiKey', in: 'header', name: 'X-Connect-Acting-User', description: 'The Vantagepoint username acting in the admin form' },
      },
    },
  };
}

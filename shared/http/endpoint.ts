import type { HttpHandler, HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import type { Caller, CallerCredentials } from '../domain/model';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError, type FieldError } from '../errors';
import { callerCredentials, clientAddress } from './credentials';
import { problemFromError } from './problem';
import { describe, makeLog, type Log, type RequestContext } from '../logging';

export { describe, makeLog, type Log, type RequestContext };
/** A response as the HTTP layer sends it: status, body and headers. */
export interface EndpointResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Bodies above this are refused with 413 before parsing (the largest legitimate body is a bulk add). */
export const MAX_BODY_BYTES = 256 * 1024;

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
}

/**
 * One HTTP endpoint of the contract: the single source of its route, validation
 * (zod), TypeScript types and its OpenAPI description (shared/api/openapi.ts).
 */
export interface Endpoint<P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType> {
  name: string;
  method: HttpMethod;
  /** Azure Functions route template, without the `api/` prefix */
  route: string;
  summary: string;
  tag: string;
  /**
   * admin: a Connect administrator's service session (Bearer or cookie + CSRF) or the admin
   * form's key with the acting user (docs/VANTAGEPOINT.md, "Signing in")
   */
  auth: 'admin' | 'anonymous';
  params?: P;
  query?: Q;
  body?: B;
  /** the endpoint honours If-Match */
  ifMatch?: boolean;
  responses: Record<number, ResponseSpec>;
  /** where the ETag header's value is in the operation's answer (default: its `etag` field) */
  etagOf?: (answer: never) => string | undefined;
  /** the Location header for a created resource */
  locationOf?: (answer: never) => string;
}

/** The one 2xx an endpoint answers with on success (its contract lists exactly one). */
export function successStatus(endpoint: Pick<Endpoint, 'name' | 'responses'>): number {
  const codes = Object.keys(endpoint.responses)
    .map(Number)
    .filter((code) => code >= 200 && code < 300);
  if (codes.length !== 1) throw new Error(`endpoint ${endpoint.name} must list exactly one success status, lists ${codes.join(', ') || 'none'}`);
  return codes[0] as number;
}

/**
 * An operation's answer as HTTP: the endpoint's success status, the answer as the body (none
 * when it is undefined), its ETag and, for a creation, its Location. Operations return data;
 * only this layer knows status codes and headers.
 */
export function answerOf(endpoint: Pick<Endpoint, 'name' | 'responses' | 'etagOf' | 'locationOf'>, answer: unknown): EndpointResult {
  const status = successStatus(endpoint);
  if (answer === undefined) return { status };
  const etagOf = (endpoint.etagOf ?? defaultEtag) as (a: unknown) => string | undefined;
  const etag = etagOf(answer);
  const location = endpoint.locationOf ? (endpoint.locationOf as (a: unknown) => string)(answer) : undefined;
  return { status, body: answer, headers: { ...(etag ? { etag } : {}), ...(location ? { location } : {}) } };
}

function defaultEtag(answer: unknown): string | undefined {
  const etag = typeof answer === 'object' && answer !== null ? (answer as { etag?: unknown }).etag : undefined;
  return typeof etag === 'string' ? etag : undefined;
}



export interface EndpointInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  ifMatch: string | null;
}


type Infer<T> = T extends z.ZodType ? z.output<T> : undefined;

export type EndpointHandler<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> = (
  input: EndpointInput<Infer<P>, Infer<Q>, Infer<B>>,
  ctx: RequestContext,
) => Promise<EndpointResult>;

/** Resolves the calling administrator; supplied by the composition root so this module stays I/O-free. */
export type CallerResolver = (credentials: CallerCredentials, now: Date) => Promise<Caller>;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export function toFieldErrors(error: z.ZodError, prefix: string): FieldError[] {
  return error.issues.map((issue) => ({
    field: [prefix, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}

function parsePart<T extends z.ZodType>(schema: T | undefined, value: unknown, prefix: string, errors: FieldError[]): unknown {
  if (!schema) return undefined;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  errors.push(...toFieldErrors(result.error, prefix));
  return undefined;
}

function queryObject(req: HttpRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of req.query.entries()) out[key] = value;
  return out;
}

function isJsonMediaType(contentType: string | null): boolean {
  if (!contentType) return false;
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return mediaType === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
}

export async function readJsonBody(req: HttpRequest, errors: FieldError[], maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  const declared = Number(req.headers.get('content-length') ?? '0');
  if (Number.isFinite(declared) && declared > maxBytes) throw new PayloadTooLargeError(maxBytes);
  const raw = Buffer.from(await req.arrayBuffer());
  if (raw.byteLength > maxBytes) throw new PayloadTooLargeError(maxBytes);
  if (raw.byteLength === 0) {
    errors.push({ field: 'body', message: 'A JSON body is required.' });
    return undefined;
  }
  if (!isJsonMediaType(req.headers.get('content-type'))) throw new UnsupportedMediaTypeError();
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw)) as unknown;
  } catch {
    errors.push({ field: 'body', message: 'The body is not valid UTF-8 JSON.' });
    return undefined;
  }
}

function ifMatchOf(req: HttpRequest): string | null {
  const value = req.headers.get('if-match');
  if (value === null) return null;
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > 256) {
    throw new ValidationError([{ field: 'header.If-Match', message: 'must be an ETag as returned by the service' }]);
  }
  return trimmed;
}

function toResponse(result: EndpointResult, requestId: string): HttpResponseInit {
  const headers: Record<string, string> = { 'x-request-id': requestId, ...result.headers };
  if (result.body === undefined) return { status: result.status, headers };
  if (typeof result.body === 'string') return { status: result.status, headers, body: result.body };
  headers['content-type'] ??= 'application/json';
  return { status: result.status, headers, body: JSON.stringify(result.body) };
}


async function callerOf(req: HttpRequest, resolveCaller: (() => Promise<CallerResolver>) | undefined, now: Date): Promise<Caller> {
  if (!resolveCaller) throw new Error('an admin endpoint needs a caller resolver');
  return (await resolveCaller())(callerCredentials(req), now);
}

/**
 * Turns an endpoint and its operation into an Azure Functions HTTP handler:
 * request id, caller check, zod parsing of params/query/headers/body, problem
 * mapping. A client can never cause a 500 here: every input failure is a 4xx.
 */
export function httpHandler<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
  endpoint: Endpoint<P, Q, B>,
  handle: EndpointHandler<P, Q, B>,
  /** required for admin endpoints; anonymous ones never identify a caller */
  resolveCaller?: () => Promise<CallerResolver>,
): HttpHandler {
  return async (req, context) => {
    const supplied = req.headers.get('x-request-id');
    const requestId = supplied && REQUEST_ID.test(supplied) ? supplied : context.invocationId;
    const log = makeLog(context, { requestId, invocationId: context.invocationId, function: endpoint.name });
    const now = new Date();
    try {
      const caller = endpoint.auth === 'admin' ? await callerOf(req, resolveCaller, now) : null;
      const errors: FieldError[] = [];
      const params = parsePart(endpoint.params, req.params, 'path', errors);
      const query = parsePart(endpoint.query, queryObject(req), 'query', errors);
      const ifMatch = endpoint.ifMatch ? ifMatchOf(req) : null;
      const rawBody = endpoint.body ? await readJsonBody(req, errors) : undefined;
      const body = errors.length === 0 || rawBody !== undefined ? parsePart(endpoint.body, rawBody, 'body', errors) : undefined;
      if (errors.length > 0) throw new ValidationError(errors);
      const result = await handle(
        { params, query, body, ifMatch } as EndpointInput<Infer<P>, Infer<Q>, Infer<B>>,
        { requestId, invocationId: context.invocationId, caller, clientAddress: clientAddress(req), log, now },
      );
      return toResponse(result, requestId);
    } catch (err) {
      const { response, unexpected } = problemFromError(err, requestId);
      if (unexpected) {
        context.error(JSON.stringify({ event: 'request.failed', requestId, function: endpoint.name, error: describe(err) }));
      } else if ((response.status ?? 500) >= 500) {
        log('request.unavailable', { status: response.status, error: describe(err) });
      }
      return response;
    }
  };
}

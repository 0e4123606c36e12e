import type { HttpResponseInit } from '@azure/functions';
import { AppError, ServiceUnavailableError, TooManyRequestsError, ValidationError } from '../errors';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** RFC 9457 problem document, with the service's `code` (and `errors[]` for validation). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  requestId: string;
  [extra: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problem(status: number, code: string, detail: string, requestId: string, extra: Record<string, unknown> = {}): HttpResponseInit {
  const body: Problem = {
    // A URN, not a URL: no documentation site exists to dereference; `code` is the stable key.
    type: `urn:connect-sync:problem:${code.toLowerCase().replace(/_/g, '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    requestId,
    ...extra,
  };
  const headers: Record<string, string> = { 'content-type': PROBLEM_CONTENT_TYPE, 'x-request-id': requestId };
  if (status === 401) headers['www-authenticate'] = 'Bearer realm="connect-sync"';
  return { status, headers, body: JSON.stringify(body) };
}

/**
 * Maps anything thrown by an operation to a problem response. Unknown errors become a
 * generic 500 whose detail never echoes the error (it may hold secrets); the caller logs it.
 */
export function problemFromError(err: unknown, requestId: string): { response: HttpResponseInit; unexpected: boolean } {
  if (err instanceof ValidationError) {
    return { response: problem(400, err.code, err.message, requestId, { errors: err.errors }), unexpected: false };
  }
  if (err instanceof ServiceUnavailableError) {
    const response = problem(503, err.code, err.message, requestId, err.extra);
    response.headers = { ...(response.headers as Record<string, string>), 'retry-after': String(err.retryAfterSeconds) };
    return { response, unexpected: false };
  }
  if (err instanceof TooManyRequestsError) {
    const response = problem(429, err.code, err.message, requestId, err.extra);
    response.headers = { ...(response.headers as Record<string, string>), 'retry-after': String(Math.max(1, Math.ceil(err.retryAfterSeconds))) };
    return { response, unexpected: false };
  }
  if (err instanceof AppError) {
    return { response: problem(err.status, err.code, err.message, requestId, err.extra), unexpected: false };
  }
  return {
    response: problem(500, 'INTERNAL_ERROR', 'The service failed to handle the request; it has been logged with this request id.', requestId),
    unexpected: true,
  };
}

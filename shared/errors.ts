/**
 * Errors that carry their own meaning to the HTTP layer. Operations and adapters
 * throw these; shared/http/problem.ts maps them to application/problem+json.
 * Anything else that escapes is a server fault (500) and is logged, never echoed.
 */
export interface FieldError {
  /** JSON-pointer-like path of the bad field, e.g. "body.employeeIds.3" or "query.top" */
  field: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  constructor(readonly errors: FieldError[], message = 'The request is not valid.') {
    super(400, 'VALIDATION_FAILED', message, { errors });
  }
}
export class UnauthorizedError extends AppError {
  constructor(
    message = 'Sign in first: POST /api/session, then send the token as Authorization: Bearer (or the session cookie).',
    code: 'UNAUTHORIZED' | 'INVALID_CREDENTIALS' = 'UNAUTHORIZED',
  ) {
    super(401, code, message);
  }
}
export class ForbiddenError extends AppError {
  /** ADMIN_ROLE / ADMIN_EMPLOYEE: the caller check; CSRF_TOKEN: a cookie-authenticated write without the session's CSRF token. */
  constructor(code: 'ADMIN_ROLE' | 'ADMIN_EMPLOYEE' | 'CSRF_TOKEN', message: string) {
    super(403, code, message);
  }
}
/** Too many failed sign-ins for a username or a client address; retry after the given seconds. */
export class TooManyRequestsError extends AppError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(429, 'TOO_MANY_ATTEMPTS', message);
  }
}
export class NotFoundError extends AppError {
  constructor(code: string, message: string) {
    super(404, code, message);
  }
}
export class ConflictError extends AppError {
  constructor(code: string, message: string, extra: Record<string, unknown> = {}) {
    super(409, code, message, extra);
  }
}
export class PreconditionFailedError extends AppError {
  /** `resource` names what changed (e.g. `/api/groups/sales`), so a client knows what to re-read. */
  constructor(message = 'The resource was changed by someone else; re-read it and retry with its current ETag.', resource?: string) {
    super(412, 'PRECONDITION_FAILED', message, resource ? { resource } : {});
  }
}
export class PayloadTooLargeError extends AppError {
  constructor(limit: number) {
    super(413, 'PAYLOAD_TOO_LARGE', `The request body exceeds ${limit} bytes.`);
  }
}
export class UnsupportedMediaTypeError extends AppError {
  constructor() {
    super(415, 'UNSUPPORTED_MEDIA_TYPE', 'The request body must be application/json.');
  }
}
/** A dependency (Table Storage, Vantagepoint, Key Vault) is unavailable; the client may retry. */
export class ServiceUnavailableError extends AppError {
  constructor(
    readonly dependency: string,
    message: string,
    readonly retryAfterSeconds = 5,
  ) {
    super(503, 'DEPENDENCY_UNAVAILABLE', message, { dependency });
  }
}

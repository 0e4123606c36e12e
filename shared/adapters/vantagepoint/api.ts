import { ServiceUnavailableError } from '../../errors';
import { restErrorOf } from './wire';

/** Vantagepoint calls that take longer than this are treated as Vantagepoint being unavailable. */
export const REQUEST_TIMEOUT_MS = 10_000;

export interface ApiResponse {
  status: number;
  /** parsed JSON, or null when the body was empty or not JSON */
  body: unknown;
}

/**
 * Raw HTTP access to one Vantagepoint installation (`{base}/api/...`). Only transport concerns
 * live here: the timeout, JSON parsing, and turning "unreachable / 5xx" into
 * ServiceUnavailableError. Callers decide what every other status means.
 */
export class VantagepointApi {
  readonly apiUrl: string;

  constructor(
    baseUrl: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.apiUrl = `${baseUrl.replace(/\/+$/, '')}/api`;
  }

  /** `POST /api/token` with a form-encoded body (Vantagepoint's OAuth endpoint). */
  postToken(form: Record<string, string>): Promise<ApiResponse> {
    return this.send('/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
    });
  }

  /** `GET /api{path}` with a bearer token (the path may carry a query). */
  get(path: string, bearerToken: string): Promise<ApiResponse> {
    return this.send(path, { method: 'GET', headers: { authorization: `Bearer ${bearerToken}`, accept: 'application/json' } });
  }

  /** A JSON request with a bearer token (the activity writes: POST, PUT, DELETE). */
  request(method: string, path: string, bearerToken: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
    return this.send(path, {
      method,
      headers: {
        authorization: `Bearer ${bearerToken}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  private async send(path: string, init: RequestInit): Promise<ApiResponse> {
    const what = `${init.method ?? 'GET'} ${path.split('?')[0]}`;
    try {
      const response = await this.fetchImpl(`${this.apiUrl}${path}`, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      const body = parseJson(await response.text());
      if (response.status >= 500) {
        throw new ServiceUnavailableError('vantagepoint', `Vantagepoint answered ${response.status} to ${what}${restDetail(body)}.`);
      }
      return { status: response.status, body };
    } catch (err) {
      if (err instanceof ServiceUnavailableError) throw err;
      throw new ServiceUnavailableError('vantagepoint', `Vantagepoint is unreachable (${what}: ${transportFailure(err)}).`);
    }
  }
}

function parseJson(text: string): unknown {
  if (text.length === 0) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** The `{message, detail}` of a Vantagepoint REST error (any casing), for messages to operators. */
export function restDetail(body: unknown): string {
  const error = restErrorOf(body);
  const parts = error ? [error.message, error.detail].filter((p) => p.length > 0) : [];
  return parts.length > 0 ? `: ${parts.join(' — ')}` : '';
}

function transportFailure(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  }
  // undici reports the socket error (ECONNREFUSED, ENOTFOUND, certificate problems) as the cause
  const cause = err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}

import { ServiceUnavailableError } from '../../errors';
import { restDetail, type ApiResponse } from './api';
import { singleRecord } from './wire';

interface Schema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false };
}

function requireOk(response: ApiResponse, what: string): void {
  if (response.status !== 200) {
    throw new ServiceUnavailableError('vantagepoint', `Vantagepoint answered ${response.status} to ${what}${restDetail(response.body)}.`);
  }
}

/** A 200 with the expected shape; anything else from Vantagepoint is an outage for our purposes. */
export function parseOk<T>(response: ApiResponse, schema: Schema<T>, what: string): T {
  requireOk(response, what);
  const parsed = schema.safeParse(response.body);
  if (!parsed.success) throw new ServiceUnavailableError('vantagepoint', `Vantagepoint's answer to ${what} has an unexpected shape.`);
  return parsed.data;
}

/** A single-record look-up: an array of one (Deltek's "Responses"), or an object; `[]` → null. */
export function parseSingle<T>(response: ApiResponse, schema: Schema<T>, what: string): T | null {
  requireOk(response, what);
  const single = singleRecord(response.body);
  if ('malformed' in single) throw new ServiceUnavailableError('vantagepoint', `Vantagepoint's answer to ${what} is not a record.`);
  if (!single.found) return null;
  const parsed = schema.safeParse(single.record);
  if (!parsed.success) throw new ServiceUnavailableError('vantagepoint', `Vantagepoint's answer to ${what} has an unexpected shape.`);
  return parsed.data;
}

/**
 * A look-up by key (`GET /api/user/{username}`, `/api/employee/{key}`): the record whose key is the
 * one asked for, among an array (of one, per "Responses") or an object; none (`[]`, or only other
 * records: a server treating the key as a search) → null. Records of another shape are skipped;
 * only when nothing matched and one of them had the wrong shape is it an unexpected answer.
 */
export function parseKeyed<T>(response: ApiResponse, schema: Schema<T>, what: string, isTheOne: (record: T) => boolean): T | null {
  requireOk(response, what);
  const body = response.body;
  const records: unknown[] | null = Array.isArray(body) ? body : typeof body === 'object' && body !== null ? [body] : null;
  if (records === null) throw new ServiceUnavailableError('vantagepoint', `Vantagepoint's answer to ${what} is not a record.`);
  let malformed = false;
  for (const record of records) {
    const parsed = schema.safeParse(record);
    if (!parsed.success) malformed = true;
    else if (isTheOne(parsed.data)) return parsed.data;
  }
  if (malformed) throw new ServiceUnavailableError('vantagepoint', `Vantagepoint's answer to ${what} has an unexpected shape.`);
  return null;
}

/** One page of a list: like parseOk, but a 404 is null (a page past the end, for some servers; paging.ts decides). */
export function parsePage<T>(response: ApiResponse, schema: Schema<T>, what: string): T | null {
  return response.status === 404 ? null : parseOk(response, schema, what);
}

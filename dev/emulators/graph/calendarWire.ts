/** The wire details of calendar reads in the Graph emulator: Prefer preferences, delta state tokens, errors. */
import type { EventsResponse } from './events';

/** Opaque state tokens: base64url JSON, as opaque to the client as Graph's. */
export interface RoundToken {
  m: string;
  s: number;
  e: number;
  /** changes after this sequence belong to the round (0: a full round) */
  since: number;
  /** the mailbox sequence when the round started */
  upTo: number;
  offset: number;
}
export const encodeToken = (t: RoundToken) => Buffer.from(JSON.stringify(t)).toString('base64url');
export function decodeToken(text: string): RoundToken | null {
  try {
    const t = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as RoundToken;
    return typeof t.m === 'string' && [t.s, t.e, t.since, t.upTo, t.offset].every((n) => typeof n === 'number') ? t : null;
  } catch {
    return null;
  }
}

export const graphError = (status: number, code: string, message: string, headers?: Record<string, string>): EventsResponse => ({ status, headers, body: { error: { code, message } } });

export function preferences(header: string | undefined): { timeZone: string | null; bodyType: 'text' | 'html' | null; maxPageSize: number | null } {
  const text = header ?? '';
  const tz = /outlook\.timezone\s*=\s*"([^"]*)"/i.exec(text)?.[1] ?? /outlook\.timezone\s*=\s*([^,;\s]+)/i.exec(text)?.[1] ?? null;
  const body = /outlook\.body-content-type\s*=\s*"?(text|html)"?/i.exec(text)?.[1]?.toLowerCase() as 'text' | 'html' | undefined;
  const size = /odata\.maxpagesize\s*=\s*(\d+)/i.exec(text)?.[1];
  return { timeZone: tz, bodyType: body ?? null, maxPageSize: size ? Number(size) : null };
}


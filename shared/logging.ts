import type { InvocationContext } from '@azure/functions';
import type { Caller } from './domain/model';

/**
 * Logging and request context: one structured line per event, and who asked for what and when.
 * Used by every layer (the HTTP layer, operations, adapters, triggers); depends on none of them.
 */
export interface Log {
  /** One structured line: event name plus fields (never secrets). */
  (event: string, fields?: Record<string, unknown>): void;
}

/** Who asked, under which request id, and when: the context every operation runs in. */
export interface RequestContext {
  requestId: string;
  invocationId: string;
  caller: Caller | null;
  /** the client's address (sign-in throttling); absent outside HTTP, 'unknown' when it cannot be told */
  clientAddress?: string;
  log: Log;
  now: Date;
}

/** A Log writing JSON lines to the invocation's log, each with the invocation's base fields. */
export function makeLog(context: InvocationContext, base: Record<string, unknown>): Log {
  return (event, fields = {}) => {
    context.log(JSON.stringify({ event, ...base, ...fields }));
  };
}

/** A Log outside any invocation (start-up hooks): JSON lines on the process's standard output. */
export function processLog(base: Record<string, unknown>): Log {
  return (event, fields = {}) => {
    console.log(JSON.stringify({ event, ...base, ...fields }));
  };
}

/** Error name and message only: stacks and causes can carry request data. */
export function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : 'non-error thrown';
}

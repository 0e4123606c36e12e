/** The Graph emulator's HTTP plumbing: answers, Graph's error shape, body reading, JSON control bodies. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';

export interface GraphResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export const MAX_BODY_BYTES = 1024 * 1024;

/** Graph's error body (api-reference: "Microsoft Graph error responses and resource types"). */
export function graphError(status: number, code: string, message: string, headers?: Record<string, string>): GraphResponse {
  return { status, headers, body: { error: { code, message } } };
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export const INVALID_JSON = Symbol.for('invalid-json');

export function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return INVALID_JSON;
  }
}

export function send(res: ServerResponse, response: GraphResponse): void {
  const headers: Record<string, string> = { ...response.headers };
  if (response.body === undefined) {
    res.writeHead(response.status, headers).end();
    return;
  }
  headers['content-type'] = 'application/json';
  res.writeHead(response.status, headers).end(JSON.stringify(response.body));
}

export function issuesOf(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
}

/** A control route (`/emulator/...`): the state, the raw request and its body text. */
export type ControlRoute<S> = (state: S, req: IncomingMessage, body: string) => Promise<GraphResponse>;

/** Parses a JSON control body with a schema; a bad one is a 400, not a crash. */
export function withJson<S, T>(schema: z.ZodType<T>, run: (state: S, input: T) => Promise<GraphResponse> | GraphResponse): ControlRoute<S> {
  return async (state, _req, text) => {
    const parsed = schema.safeParse(parseJson(text) ?? {});
    if (!parsed.success) return graphError(400, 'BadRequest', issuesOf(parsed.error));
    return run(state, parsed.data);
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

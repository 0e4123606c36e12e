/** What the development host's parts share: host.json settings, app-setting references, the log sink and invocation contexts. */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { format } from 'node:util';
import { InvocationContext, type LogLevel } from '@azure/functions';
import type { FunctionDefinition } from '../shared/functionRegistry';

/** Messages stay invisible while a handler runs (the Functions host renews; functionTimeout is 10 min). */
export const VISIBILITY_TIMEOUT_SECONDS = 600;

export type LogSink = (line: string) => void;
export type HttpDefinition = Extract<FunctionDefinition, { kind: 'http' }>;
export type TimerDefinition = Extract<FunctionDefinition, { kind: 'timer' }>;
export type QueueDefinition = Extract<FunctionDefinition, { kind: 'storageQueue' }>;

export interface DevHost {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export function isKind<K extends FunctionDefinition['kind']>(kind: K) {
  return (def: FunctionDefinition): def is Extract<FunctionDefinition, { kind: K }> => def.kind === kind;
}

export interface Stoppable {
  stop(): Promise<void>;
}

export interface HostSettings {
  routePrefix: string;
  messageEncoding: 'base64' | 'none';
  maxDequeueCount: number;
  batchSize: number;
  /** a new batch is fetched once this few messages of the last are still running (host default: batchSize / 2) */
  newBatchThreshold: number;
  visibilityTimeoutSeconds: number;
}

/** The parts of host.json this host honours, with the Functions host's defaults. */
export function readHostSettings(root: string): HostSettings {
  const file = path.join(root, 'host.json');
  const json = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { extensions?: Record<string, Record<string, unknown>> }) : {};
  const httpSettings = json.extensions?.http ?? {};
  const queueSettings = json.extensions?.queues ?? {};
  const batchSize = Math.min(32, typeof queueSettings.batchSize === 'number' ? queueSettings.batchSize : 16);
  return {
    routePrefix: typeof httpSettings.routePrefix === 'string' ? httpSettings.routePrefix : 'api',
    messageEncoding: queueSettings.messageEncoding === 'none' ? 'none' : 'base64',
    maxDequeueCount: typeof queueSettings.maxDequeueCount === 'number' ? queueSettings.maxDequeueCount : 5,
    batchSize,
    newBatchThreshold: typeof queueSettings.newBatchThreshold === 'number' ? queueSettings.newBatchThreshold : Math.floor(batchSize / 2),
    visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS,
  };
}

/** `%NAME%` is an app setting, resolved from the environment as the Functions host does. */
export function resolveSettings(text: string, env: Record<string, string | undefined> = process.env): string {
  return text.replace(/%([^%]+)%/g, (_whole, name: string) => {
    const value = env[name];
    if (value === undefined || value === '') throw new Error(`app setting "${name}" (used as %${name}%) is not set`);
    return value;
  });
}


export const defaultSink: LogSink = (line) => process.stdout.write(`${line}\n`);

export function hostLog(sink: LogSink, level: LogLevel, message: string): void {
  sink(`${new Date().toISOString()} ${level} [host] ${message}`);
}

/** One line per log call: newlines in messages are escaped so a log stays greppable. */
export function invocationContext(sink: LogSink, functionName: string, extra: { triggerMetadata?: Record<string, unknown> } = {}): InvocationContext {
  const invocationId = randomUUID();
  return new InvocationContext({
    invocationId,
    functionName,
    triggerMetadata: extra.triggerMetadata,
    logHandler: (level, ...args) => sink(`${new Date().toISOString()} ${level} [${functionName}] (${invocationId}) ${format(...args).replace(/\r?\n/g, '\\n')}`),
  });
}


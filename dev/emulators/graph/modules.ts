/**
 * Where the Graph emulator's routes are registered. Each module serves one area of Graph
 * (subscriptions here; mail sending and calendar events are added by their own files) and
 * may add control routes under `/emulator/...`.
 *
 * To add an area: write `dev/emulators/graph/<area>.ts` exporting a `GraphRouteModule`, and
 * append it to `GRAPH_ROUTE_MODULES` below. Its Graph calls reach it directly and as `$batch`
 * sub-requests alike, and should pass through `state.guarded(...)` so mailbox throttling,
 * latency and the injected faults apply to them as to every other call.
 */
import type { IncomingMessage } from 'node:http';
import type { Delivery } from './delivery';
import type { ControlRoute, GraphResponse } from './http';
import type { Caller, GraphEmulatorState } from './state';
import { eventsModule } from './eventsRoutes';
import { sendMailModule } from './mailRoutes';
import { subscriptionsModule } from './subscriptions';

/** What a module can reach: the shared state and outbound delivery to notification URLs. */
export interface EmulatorContext {
  state: GraphEmulatorState;
  delivery: Delivery;
  /** base URL of the emulator (for @odata.nextLink) */
  baseUrl(): string;
}

export interface GraphCall {
  caller: Caller;
  method: string;
  /** the path after `/v1.0`, with its query string, e.g. `/subscriptions?$skiptoken=...` */
  path: string;
  /** request headers (a `$batch` sub-request's own headers), lower-cased names */
  headers: Record<string, string>;
  body: unknown;
}

export interface GraphRouteModule {
  name: string;
  /** Answers a Graph call this module serves, or null (or a promise of null) for "not mine". */
  handle?(ctx: EmulatorContext, call: GraphCall): Promise<GraphResponse | null> | null;
  /** `'METHOD /emulator/path'` → handler */
  control?: Record<string, ControlRoute<EmulatorContext>>;
  /** control routes with parameters (`/emulator/things/{id}`): an answer, or null for "not mine" */
  controlFallback?(ctx: EmulatorContext, method: string, pathname: string, body: unknown): Promise<GraphResponse | null>;
}

/** Every module of the emulator, in the order calls are offered to them. */
export const GRAPH_ROUTE_MODULES: GraphRouteModule[] = [subscriptionsModule, sendMailModule, eventsModule];

export type { IncomingMessage };

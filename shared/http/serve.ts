import type { z } from 'zod';
import { defineHttp } from '../functionRegistry';
import type { CallerCredentials } from '../domain/model';
import { authenticate } from '../operations/session';
import { getServices, type Services } from '../services';
import { answerOf, httpHandler, successStatus, type Endpoint, type EndpointHandler, type EndpointInput, type EndpointResult, type RequestContext } from './endpoint';

type Infer<T> = T extends z.ZodType ? z.output<T> : undefined;

/**
 * Registers an endpoint of the contract as an Azure Function bound to one operation.
 * Admin endpoints are guarded by the service's own authentication (a session or the admin
 * form's key, shared/operations/session.ts), not by function keys: a browser page served by
 * the app could not hold a function key, and the form key replaces it server to server.
 */
export function serve<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
  endpoint: Endpoint<P, Q, B>,
  operation: (input: EndpointInput<Infer<P>, Infer<Q>, Infer<B>>, ctx: RequestContext, services: Services) => Promise<unknown>,
): void {
  successStatus(endpoint); // a contract without exactly one success status fails at start-up
  register(endpoint, async (input, ctx) => answerOf(endpoint, await operation(input, ctx, await getServices())));
}

/**
 * For the few endpoints whose answer carries HTTP of its own (the session's cookie): the function
 * file builds the response itself.
 */
export function serveResponse<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
  endpoint: Endpoint<P, Q, B>,
  respond: (input: EndpointInput<Infer<P>, Infer<Q>, Infer<B>>, ctx: RequestContext, services: Services) => Promise<EndpointResult>,
): void {
  register(endpoint, async (input, ctx) => respond(input, ctx, await getServices()));
}

function register<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(endpoint: Endpoint<P, Q, B>, handle: EndpointHandler<P, Q, B>): void {
  const resolveCaller = async () => {
    const services = await getServices();
    return (credentials: CallerCredentials, now: Date) => authenticate(services, credentials, now);
  };
  defineHttp(endpoint.name, {
    methods: [endpoint.method],
    route: endpoint.route,
    authLevel: 'anonymous',
    handler: httpHandler(endpoint, handle, resolveCaller),
  });
}

import type { z } from 'zod';
import { defineHttp } from '../functionRegistry';
import type { CallerCredentials } from '../domain/model';
import { authenticate } from '../operations/session';
import { getServices, type Services } from '../services';
import { httpHandler, type Endpoint, type EndpointInput, type EndpointResult, type RequestContext } from './endpoint';

type Infer<T> = T extends z.ZodType ? z.output<T> : undefined;

/**
 * Registers an endpoint of the contract as an Azure Function bound to one operation.
 * Admin endpoints are guarded by the service's own authentication (a session or the admin
 * form's key, shared/operations/session.ts), not by function keys: a browser page served by
 * the app could not hold a function key, and the form key replaces it server to server.
 */
export function serve<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
  endpoint: Endpoint<P, Q, B>,
  operation: (input: EndpointInput<Infer<P>, Infer<Q>, Infer<B>>, ctx: RequestContext, services: Services) => Promise<EndpointResult>,
): void {
  const resolveCaller = async () => {
    const services = await getServices();
    return (credentials: CallerCredentials, now: Date) => authenticate(services, credentials, now);
  };
  defineHttp(endpoint.name, {
    methods: [endpoint.method],
    route: endpoint.route,
    authLevel: 'anonymous',
    handler: httpHandler(endpoint, async (input, ctx) => operation(input, ctx, await getServices()), resolveCaller),
  });
}

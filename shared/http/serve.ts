import type { z } from 'zod';
import { defineHttp } from '../functionRegistry';
import { getServices, type Services } from '../services';
import { httpHandler, type Endpoint, type EndpointInput, type EndpointResult, type RequestContext } from './endpoint';

type Infer<T> = T extends z.ZodType ? z.output<T> : undefined;

/**
 * Registers an endpoint of the contract as an Azure Function bound to one operation.
 * Admin endpoints sit behind function keys in Azure (authLevel function) and a
 * Vantagepoint bearer token everywhere.
 */
export function serve<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
  endpoint: Endpoint<P, Q, B>,
  operation: (input: EndpointInput<Infer<P>, Infer<Q>, Infer<B>>, ctx: RequestContext, services: Services) => Promise<EndpointResult>,
): void {
  const resolveCaller = async () => {
    const { directory } = await getServices();
    return (token: string) => directory.resolveCaller(token);
  };
  defineHttp(endpoint.name, {
    methods: [endpoint.method],
    route: endpoint.route,
    authLevel: endpoint.auth === 'admin' ? 'function' : 'anonymous',
    handler: httpHandler(endpoint, async (input, ctx) => operation(input, ctx, await getServices()), resolveCaller),
  });
}

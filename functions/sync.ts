import '../shared/startup';
import * as api from '../shared/api/endpoints';
import { serve } from '../shared/http/serve';
import { forceGroupSync } from '../shared/operations/groupForce';
import { confirmRemovals } from '../shared/operations/removals';
import { preflight, toggleGroupSync } from '../shared/operations/sync';

serve(api.toggleGroup, ({ params, body, ifMatch }, ctx, services) =>
  toggleGroupSync(services, { groupId: params.groupId, enabled: body.enabled, ifMatch }, ctx),
);
serve(api.preflight, ({ params, query }, _ctx, services) => preflight(services, { groupId: params.groupId, ...query }));
serve(api.forceGroupSync, ({ params }, ctx, services) => forceGroupSync(services, params.groupId, ctx));
serve(api.confirmRemovals, ({ params, ifMatch }, ctx, services) => confirmRemovals(services, params.groupId, ctx, ifMatch));

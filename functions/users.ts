import '../shared/startup';
import * as api from '../shared/api/endpoints';
import { serve } from '../shared/http/serve';
import { forceUserSync, getUserSync, putUserSync } from '../shared/operations/userSync';

serve(api.getUserSync, ({ params }, ctx, services) => getUserSync(services, params.employeeId, ctx));
serve(api.putUserSync, ({ params, body, ifMatch }, ctx, services) => putUserSync(services, { employeeId: params.employeeId, enabled: body.enabled, ifMatch }, ctx));
serve(api.forceUserSync, ({ params }, ctx, services) => forceUserSync(services, params.employeeId, ctx));

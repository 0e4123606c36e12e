import '../shared/startup';
import * as api from '../shared/api/endpoints';
import { serve } from '../shared/http/serve';
import { createGroup, deleteGroup, getGroup, listGroups, patchGroup } from '../shared/operations/groups';
import { groupHistory } from '../shared/operations/history';

serve(api.createGroup, ({ body }, ctx, services) => createGroup(services, body, ctx));
serve(api.listGroups, ({ query }, _ctx, services) => listGroups(services, query));
serve(api.getGroup, ({ params }, _ctx, services) => getGroup(services, params.groupId));
serve(api.patchGroup, ({ params, body, ifMatch }, ctx, services) => patchGroup(services, { groupId: params.groupId, body, ifMatch }, ctx));
serve(api.deleteGroup, ({ params, ifMatch }, ctx, services) => deleteGroup(services, { groupId: params.groupId, ifMatch }, ctx));
serve(api.history, ({ params, query }, _ctx, services) => groupHistory(services, { groupId: params.groupId, ...query }));

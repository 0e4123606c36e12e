import '../shared/startup';
import * as api from '../shared/api/endpoints';
import { serve } from '../shared/http/serve';
import { addMembers, listMembers, removeMember } from '../shared/operations/members';

serve(api.listMembers, ({ params, query }, ctx, services) => listMembers(services, { groupId: params.groupId, query }, ctx));
serve(api.addMembers, ({ params, body, ifMatch }, ctx, services) => addMembers(services, { groupId: params.groupId, body, ifMatch }, ctx));
serve(api.removeMember, ({ params, ifMatch }, ctx, services) => removeMember(services, { ...params, ifMatch }, ctx));

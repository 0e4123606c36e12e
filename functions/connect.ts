import '../shared/startup';
import * as api from '../shared/api/endpoints';
import { serve } from '../shared/http/serve';
import { connectStatus, refreshCredentials } from '../shared/operations/sync';

serve(api.connectStatus, (_input, _ctx, services) => connectStatus(services));
serve(api.tokenRefresh, (_input, ctx, services) => refreshCredentials(services, ctx));

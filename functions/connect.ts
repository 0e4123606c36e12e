import '../shared/startup';
import * as api from '../shared/api/endpoints';
import { serve } from '../shared/http/serve';
import { getDataSyncDeps } from '../shared/operations/dataSync/services';
import { connectStatus, refreshCredentials } from '../shared/operations/sync';

serve(api.connectStatus, (_input, ctx, services) =>
  connectStatus({ ...services, activityType: async () => (await getDataSyncDeps(ctx.log)).activityType() }),
);
serve(api.tokenRefresh, (_input, ctx, services) => refreshCredentials(services, ctx));

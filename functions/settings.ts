import '../shared/startup';
import * as api from '../shared/api/endpoints';
import { serve } from '../shared/http/serve';
import { getSettings, putSettings } from '../shared/operations/settings';

serve(api.getSettings, (_input, _ctx, services) => getSettings(services));
serve(api.putSettings, ({ body, ifMatch }, ctx, services) => putSettings(services, { ...body, ifMatch }, ctx));

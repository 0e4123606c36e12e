import '../shared/startup';
import * as api from '../shared/api/endpoints';
import { serve } from '../shared/http/serve';
import { searchEmployees } from '../shared/operations/employeeSearch';

serve(api.searchEmployees, ({ query }, _ctx, services) => searchEmployees(services, query));

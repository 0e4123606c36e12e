import type { EndpointResult } from '../http/endpoint';
import type { Services } from '../services';
import { groupScope } from './context';
import { requireGroup } from './views';

export async function groupHistory(deps: Pick<Services, 'storage'>, input: { groupId: string; top: number; continuationToken?: string | undefined }): Promise<EndpointResult> {
  await requireGroup(deps.storage, input.groupId);
  const page = await deps.storage.audit.list(groupScope(input.groupId), input);
  return {
    status: 200,
    body: {
      items: page.items.map((e) => ({ at: e.at, by: e.by, action: e.action, target: e.target, from: e.from, to: e.to, requestId: e.requestId })),
      continuationToken: page.continuationToken,
    },
  };
}

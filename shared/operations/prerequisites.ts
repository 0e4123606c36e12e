import { blockingFailures, evaluateOrganisation } from '../domain';
import type { OrgPrerequisiteCode, PrerequisiteResult } from '../domain/model';
import { secretNames } from '../adapters/secrets';
import type { Services } from '../services';
import { describe } from '../http/endpoint';
import type { Storage } from '../adapters/tables';
import type { Member } from '../domain/model';
import type { MemberSummary, Page, PageRequest } from '../ports';

type Deps = Pick<Services, 'config' | 'secrets' | 'directory'>;

async function secretReadable(deps: Deps): Promise<{ ok: boolean; message: string }> {
  const names = secretNames(deps.config);
  try {
    await Promise.all([deps.secrets.get(names.clientSecret), deps.secrets.get(names.servicePassword)]);
    return { ok: true, message: `The client secret is readable from ${deps.secrets.kind === 'key-vault' ? 'Key Vault' : 'the environment'}.` };
  } catch (err) {
    return { ok: false, message: `The client secret cannot be read: ${describe(err)}` };
  }
}

/** Organisation prerequisites (SPEC §2), evaluated now: one token request at most (tokens are cached). */
export async function organisationPrerequisites(deps: Deps): Promise<PrerequisiteResult<OrgPrerequisiteCode>[]> {
  const [secret, tokenEndpoint] = await Promise.all([secretReadable(deps), deps.directory.checkCredentials()]);
  return evaluateOrganisation({
    environment: deps.config.CONNECT_ENVIRONMENT,
    baseUrl: deps.config.VANTAGEPOINT_BASE_URL,
    authMode: deps.config.VANTAGEPOINT_AUTH_MODE,
    clientIdConfigured: deps.config.VANTAGEPOINT_CLIENT_ID.length > 0,
    secret,
    tokenEndpoint,
    outboundIps: deps.config.OUTBOUND_IP_ADDRESSES,
  });
}

export { blockingFailures };

/** The member side of preflight and of the toggle's answer: counts per reason and the first affected members. */
export function toPrerequisiteSummary(summary: MemberSummary, affected: Page<Member>) {
  return {
    memberCount: summary.memberCount,
    notConfigured: summary.notConfigured as Record<string, number>,
    affected: affected.items.map((m) => ({
      employeeId: m.employeeId,
      name: m.name,
      reason: m.prerequisite ?? '',
      message: m.prerequisiteMessage,
    })),
    affectedContinuationToken: affected.continuationToken,
  };
}

export async function memberPrerequisiteSummary(storage: Storage, groupId: string, page: PageRequest) {
  const [summary, affected] = await Promise.all([storage.members.summary(groupId), storage.members.listWithIssues(groupId, page)]);
  return toPrerequisiteSummary(summary, affected);
}

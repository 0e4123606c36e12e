import { blockingFailures, evaluateOrganisation } from '../domain';
import type { OrgPrerequisiteCode, PrerequisiteResult } from '../domain/model';
import { resolveHost } from '../adapters/dns';
import { secretNames } from '../adapters/secrets';
import { ServiceUnavailableError } from '../errors';
import type { Services } from '../services';
import { describe } from '../logging';
import type { Storage } from '../adapters/tables';
import type { Member } from '../domain/model';
import type { MemberSummary, Page, PageRequest } from '../ports';

type Deps = Pick<Services, 'config' | 'secrets' | 'directory'> & {
  /** DNS for the PUBLIC_URL check (tests replace it) */
  resolveHost?: typeof resolveHost;
};

async function secretReadable(deps: Deps): Promise<{ ok: boolean; message: string; unknown?: boolean }> {
  const names = secretNames(deps.config);
  try {
    await Promise.all([deps.secrets.get(names.clientSecret), deps.secrets.get(names.servicePassword)]);
    return { ok: true, message: `The client secret is readable from ${deps.secrets.kind === 'key-vault' ? 'Key Vault' : 'the environment'}.` };
  } catch (err) {
    // Key Vault unreachable is "could not check"; a secret that is not configured is a failure.
    const unavailable = err instanceof ServiceUnavailableError && err.dependency !== 'environment';
    return { ok: false, message: `The client secret cannot be read: ${describe(err)}`, ...(unavailable ? { unknown: true } : {}) };
  }
}

/** The base URL's host resolved, in production only (development relaxes PUBLIC_URL). */
async function resolution(deps: Deps) {
  if (deps.config.CONNECT_ENVIRONMENT === 'development') return undefined;
  let host: string;
  try {
    host = new URL(deps.config.VANTAGEPOINT_BASE_URL).hostname;
  } catch {
    return undefined; // the domain rule names the malformed URL
  }
  return (deps.resolveHost ?? resolveHost)(host);
}

/** Organisation prerequisites (SPEC §2), evaluated now: one token request at most (tokens are cached). */
export async function organisationPrerequisites(deps: Deps): Promise<PrerequisiteResult<OrgPrerequisiteCode>[]> {
  const [secret, tokenEndpoint, resolved] = await Promise.all([secretReadable(deps), deps.directory.checkCredentials(), resolution(deps)]);
  return evaluateOrganisation({
    environment: deps.config.CONNECT_ENVIRONMENT,
    baseUrl: deps.config.VANTAGEPOINT_BASE_URL,
    ...(resolved ? { resolved } : {}),
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

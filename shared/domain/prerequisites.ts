/**
 * Member and organisation prerequisites (SPEC §2). Pure: the facts are gathered by adapters
 * (Vantagepoint directory, secret source, token endpoint) and passed in.
 */
import { isIP } from 'node:net';
import { isValidEmail } from './email';
import type { EmployeeFacts, Member, MemberPrerequisiteCode, OrgPrerequisiteCode, PrerequisiteResult } from './model';

// ---------------------------------------------------------------- member prerequisites

/** What the admin must fix, naming the Vantagepoint place; shared by stores, operations and the status resolver. */
export const MEMBER_PREREQUISITE_MESSAGES: Readonly<Record<MemberPrerequisiteCode, string>> = {
  NO_EMPLOYEE_RECORD:
    'Vantagepoint has no employee record with this ID. ' +
    'Check the ID, or create the employee in the Employees hub, then add the member again.',
  INVALID_EMAIL:
    'The employee record has no valid email address. Enter the work email on the employee record in the Employees hub (Email field).',
  NO_USER_RECORD:
    'The employee is not associated with a user record. Associate a user with this employee in Settings > Security > Users.',
  USER_INACTIVE: 'The user record associated with this employee is inactive. Activate it in Settings > Security > Users.',
  EMPLOYEE_TERMINATED:
    'The employee is terminated. If they have returned, change their Status in the Employees hub; otherwise remove them from the group.',
};

const MEMBER_PASS_MESSAGES: Readonly<Record<MemberPrerequisiteCode, string>> = {
  NO_EMPLOYEE_RECORD: 'The employee record exists.',
  INVALID_EMAIL: 'The employee record has a valid email address.',
  NO_USER_RECORD: 'The employee is associated with a user record.',
  USER_INACTIVE: 'The associated user record is active.',
  EMPLOYEE_TERMINATED: 'The employee is not terminated.',
};

export const ALL_MEMBER_PREREQUISITES_PASS = 'All member prerequisites pass.';

export interface MemberEvaluation {
  /** First failing prerequisite, or null when all pass. */
  prerequisite: MemberPrerequisiteCode | null;
  message: string;
  /** The steps evaluated, in order; when one fails it is the last (later steps were not evaluated). */
  steps: PrerequisiteResult<MemberPrerequisiteCode>[];
}

type MemberCheck = [MemberPrerequisiteCode, (facts: EmployeeFacts) => boolean];

/**
 * Only 'T' (terminated) fails EMPLOYEE_TERMINATED. An inactive employee ('I') passes: Vantagepoint
 * uses 'I' for people on leave or not currently charging time, who still own a live mailbox and may
 * still want their calendar synced; whether they may sign in is decided by their user record, which
 * USER_INACTIVE already checks.
 */
const MEMBER_CHECKS: readonly MemberCheck[] = [
  ['NO_EMPLOYEE_RECORD', (facts) => facts.exists],
  ['INVALID_EMAIL', (facts) => isValidEmail(facts.email)],
  ['NO_USER_RECORD', (facts) => facts.user !== null],
  ['USER_INACTIVE', (facts) => facts.user?.active === true],
  ['EMPLOYEE_TERMINATED', (facts) => facts.employeeStatus.trim().toUpperCase() !== 'T'],
];

/** Evaluates the member prerequisites in SPEC order, stopping at the first failure. */
export function evaluateMember(facts: EmployeeFacts | undefined): MemberEvaluation {
  const steps: PrerequisiteResult<MemberPrerequisiteCode>[] = [];
  for (const [code, passes] of MEMBER_CHECKS) {
    // Unknown employee: the directory returned nothing at all, same as exists=false.
    const ok = facts !== undefined && passes(facts);
    steps.push({ code, ok, message: ok ? MEMBER_PASS_MESSAGES[code] : MEMBER_PREREQUISITE_MESSAGES[code] });
    if (!ok) return { prerequisite: code, message: MEMBER_PREREQUISITE_MESSAGES[code], steps };
  }
  return { prerequisite: null, message: ALL_MEMBER_PREREQUISITES_PASS, steps };
}

// ---------------------------------------------------------------- public host check

const PRIVATE_IPV4_RANGES: ReadonlyArray<[string, number]> = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
];

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function inIPv4Range(address: number, [base, bits]: [string, number]): boolean {
  const size = 2 ** (32 - bits);
  const start = ipv4ToNumber(base);
  return address >= start && address < start + size;
}

function isPrivateIPv4(address: string): boolean {
  const value = ipv4ToNumber(address);
  return PRIVATE_IPV4_RANGES.some((range) => inIPv4Range(value, range));
}

/** The eight 16-bit groups of an IPv6 address (already validated by isIP). */
function ipv6Groups(address: string): number[] {
  const [head = '', tail = ''] = address.includes('::') ? address.split('::') : [address, ''];
  const toGroups = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [parseInt(group, 16)];
          const v4 = ipv4ToNumber(group); // embedded IPv4 tail, e.g. ::ffff:10.0.0.1
          return [Math.floor(v4 / 65536), v4 % 65536];
        });
  const front = toGroups(head);
  const back = toGroups(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

function isPrivateIPv6(address: string): boolean {
  const groups = ipv6Groups(address);
  const first = groups[0] ?? 0;
  const upperSix = groups.slice(0, 6);
  const [g6 = 0, g7 = 0] = groups.slice(6);
  if (upperSix.every((g) => g === 0) && g6 === 0 && (g7 === 0 || g7 === 1)) return true; // :: and ::1
  if ((first & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local
  if ((first & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  const isV4Mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  return isV4Mapped && isPrivateIPv4(`${g6 >> 8}.${g6 & 255}.${g7 >> 8}.${g7 & 255}`);
}

/** True when the host cannot be reached from the internet (loopback, private, link-local, local names). */
export function isNonPublicHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local')) return true;
  const family = isIP(host);
  if (family === 4) return isPrivateIPv4(host);
  if (family === 6) return isPrivateIPv6(host);
  return false;
}

// ---------------------------------------------------------------- organisation prerequisites

export interface CheckOutcome {
  ok: boolean;
  message: string;
}

export interface OrganisationFacts {
  environment: 'development' | 'production';
  baseUrl: string;
  authMode: 'vantagepoint' | 'windows';
  clientIdConfigured: boolean;
  /** reading the client secret from Key Vault (or the local source) */
  secret: CheckOutcome;
  /** a token request to Vantagepoint with that secret */
  tokenEndpoint: CheckOutcome;
  outboundIps: string[];
}

/** Why the base URL is not acceptable, or null when it is. */
function baseUrlProblem(baseUrl: string, development: boolean): string | null {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return `The Vantagepoint base URL "${baseUrl}" is not a valid URL.`;
  }
  if (development) {
    return url.protocol === 'https:' || url.protocol === 'http:' ? null : 'The Vantagepoint base URL must use http or https.';
  }
  if (url.protocol !== 'https:') return 'Vantagepoint must be reachable at an https:// URL; the configured base URL is not https.';
  if (isNonPublicHost(url.hostname)) {
    return `The Vantagepoint host "${url.hostname}" is not public (loopback, private or local network); Connect needs a public HTTPS URL.`;
  }
  return null;
}

function checkPublicUrl(facts: OrganisationFacts): PrerequisiteResult<'PUBLIC_URL'> {
  const problem = baseUrlProblem(facts.baseUrl, facts.environment === 'development');
  if (problem !== null) return { code: 'PUBLIC_URL', ok: false, message: problem };
  if (!facts.tokenEndpoint.ok) {
    return {
      code: 'PUBLIC_URL',
      ok: false,
      message: `Vantagepoint did not answer a token request at the configured URL: ${facts.tokenEndpoint.message}`,
    };
  }
  const message =
    facts.environment === 'development'
      ? 'Vantagepoint answered at the configured URL (development mode: the public HTTPS rule is relaxed).'
      : 'Vantagepoint is reachable at its public HTTPS URL.';
  return { code: 'PUBLIC_URL', ok: true, message };
}

function checkWindowsAuth(facts: OrganisationFacts): PrerequisiteResult<'WINDOWS_AUTH'> {
  return facts.authMode === 'windows'
    ? {
        code: 'WINDOWS_AUTH',
        ok: false,
        message: 'Windows authentication for on-premises Vantagepoint is not supported; use Vantagepoint authentication.',
      }
    : { code: 'WINDOWS_AUTH', ok: true, message: 'Vantagepoint authentication is used (not Windows authentication).' };
}

function checkApiClient(facts: OrganisationFacts): PrerequisiteResult<'API_CLIENT'> {
  const fail = (message: string): PrerequisiteResult<'API_CLIENT'> => ({ code: 'API_CLIENT', ok: false, message });
  if (!facts.clientIdConfigured) {
    return fail('No Vantagepoint Client ID is configured. Create one in Settings > Integrations > API Authorization.');
  }
  if (!facts.secret.ok) return fail(`The client secret cannot be read: ${facts.secret.message}`);
  if (!facts.tokenEndpoint.ok) {
    return fail(
      `Vantagepoint refused the client credentials: ${facts.tokenEndpoint.message}. ` +
        'Check the Client ID and Secret in Settings > Integrations > API Authorization.',
    );
  }
  return { code: 'API_CLIENT', ok: true, message: 'The Client ID and Secret are configured and accepted by Vantagepoint.' };
}

/**
 * Informational: the service cannot see Vantagepoint's allow list, it can only publish its own
 * outbound addresses. No addresses in production is a deployment gap worth flagging (ok false),
 * but it never blocks enabling — see blockingFailures.
 */
function checkIpAllowlist(facts: OrganisationFacts): PrerequisiteResult<'IP_ALLOWLIST'> {
  if (facts.outboundIps.length > 0) {
    return {
      code: 'IP_ALLOWLIST',
      ok: true,
      message: `If Vantagepoint restricts API access by IP, allow these outbound addresses: ${facts.outboundIps.join(', ')}.`,
    };
  }
  return {
    code: 'IP_ALLOWLIST',
    ok: facts.environment === 'development',
    message: 'No outbound IP addresses are configured, so none can be published for the Vantagepoint allow list.',
  };
}

/** Organisation prerequisites in SPEC §2 order: PUBLIC_URL, WINDOWS_AUTH, API_CLIENT, IP_ALLOWLIST. */
export function evaluateOrganisation(facts: OrganisationFacts): PrerequisiteResult<OrgPrerequisiteCode>[] {
  return [checkPublicUrl(facts), checkWindowsAuth(facts), checkApiClient(facts), checkIpAllowlist(facts)];
}

/** Codes that are reported but never block enabling a group. */
export const INFORMATIONAL_ORG_PREREQUISITES: ReadonlySet<OrgPrerequisiteCode> = new Set(['IP_ALLOWLIST']);

/**
 * The failures that block enabling any group. IP_ALLOWLIST never blocks: SPEC §2 calls it
 * informational and the service has no way to verify Vantagepoint's allow list; a real
 * allow-list problem shows up as a failing PUBLIC_URL/API_CLIENT token request instead.
 */
export function blockingFailures(
  results: PrerequisiteResult<OrgPrerequisiteCode>[],
): PrerequisiteResult<OrgPrerequisiteCode>[] {
  return results.filter((r) => !r.ok && !INFORMATIONAL_ORG_PREREQUISITES.has(r.code));
}

/**
 * A member as Vantagepoint's facts describe it now: name, email and the first failing
 * member prerequisite (when and by whom it was added stay as they were).
 */
export function withFacts(member: Member, facts: EmployeeFacts | undefined, checkedAt: string): Member {
  const evaluation = evaluateMember(facts);
  return {
    ...member,
    name: facts?.exists ? facts.name : member.name,
    email: facts?.exists ? facts.email : '',
    prerequisite: evaluation.prerequisite,
    prerequisiteMessage: evaluation.message,
    checkedAt,
  };
}

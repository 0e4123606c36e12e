/**
 * Member and organisation prerequisites (SPEC §2). Pure: the facts are gathered by adapters
 * (Vantagepoint directory, secret source, token endpoint) and passed in.
 */
import ipaddr from 'ipaddr.js';
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
  EMPLOYEE_INACTIVE:
    'The employee is inactive; Connect cannot provision inactive employees. If they are back, change their Status to Active in the Employees hub.',
  EMPLOYEE_TERMINATED:
    'The employee is terminated. If they have returned, change their Status in the Employees hub; otherwise remove them from the group.',
};

const MEMBER_PASS_MESSAGES: Readonly<Record<MemberPrerequisiteCode, string>> = {
  NO_EMPLOYEE_RECORD: 'The employee record exists.',
  INVALID_EMAIL: 'The employee record has a valid email address.',
  NO_USER_RECORD: 'The employee is associated with a user record.',
  USER_INACTIVE: 'The associated user record is active.',
  EMPLOYEE_INACTIVE: 'The employee is not inactive.',
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
 * Employee Status (code table CFGEmployeeStatus): 'I' fails EMPLOYEE_INACTIVE and 'T'
 * EMPLOYEE_TERMINATED, because Deltek's Connect help says neither inactive nor terminated
 * employees can be provisioned. Anything else (A, or a value this code does not know) passes.
 */
const MEMBER_CHECKS: readonly MemberCheck[] = [
  ['NO_EMPLOYEE_RECORD', (facts) => facts.exists],
  ['INVALID_EMAIL', (facts) => isValidEmail(facts.email)],
  ['NO_USER_RECORD', (facts) => facts.user !== null],
  ['USER_INACTIVE', (facts) => facts.user?.active === true],
  ['EMPLOYEE_INACTIVE', (facts) => facts.employeeStatus.trim().toUpperCase() !== 'I'],
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

/**
 * IANA's only global unicast allocation for IPv6. ipaddr.js calls every address its table does
 * not name "unicast", including IPv4-compatible `::a.b.c.d` (e.g. `::127.0.0.1`) and the
 * unallocated space reserved by the IETF (`4000::/2`, `e000::/4`, ...): none of it is public.
 */
const IPV6_GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');

/**
 * Why an address cannot be reached from the internet, or null when it is public. Uses
 * ipaddr.js's range table, so every reserved range counts (private, loopback, link-local,
 * carrier-grade NAT, multicast, documentation, benchmarking, 240/4, unique-local, 6to4,
 * Teredo, ...): only "unicast" is public, and for IPv6 only inside 2000::/3. IPv4-mapped IPv6
 * is judged as the IPv4 it carries.
 */
export function nonPublicAddressRange(address: string): string | null {
  const text = address.replace(/^\[|\]$/g, '');
  if (!ipaddr.isValid(text)) return 'not an IP address';
  const parsed = ipaddr.process(text);
  const range = parsed.range();
  if (range !== 'unicast') return range;
  if (parsed.kind() === 'ipv6' && !parsed.match(IPV6_GLOBAL_UNICAST)) return 'reserved';
  return null;
}

/** True when the host, by its name alone, cannot be on the internet (an IP in a reserved range, localhost, .local). */
export function isNonPublicHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host.endsWith('.internal')) return true;
  if (ipaddr.isValid(host)) return nonPublicAddressRange(host) !== null;
  return false;
}

// ---------------------------------------------------------------- organisation prerequisites

export interface CheckOutcome {
  ok: boolean;
  message: string;
  /** the check could not be made (dependency unreachable): neither passed nor failed */
  unknown?: boolean;
}

/** What the base URL's host name resolves to (DNS); not looked up for IP literals or in development. */
export type HostResolution = { addresses: string[] } | { notFound: true; message: string } | { unknown: true; message: string };

export interface OrganisationFacts {
  environment: 'development' | 'production';
  baseUrl: string;
  /** the base URL's host resolved (production only): a name is judged by the addresses it resolves to */
  resolved?: HostResolution;
  authMode: 'vantagepoint' | 'windows';
  clientIdConfigured: boolean;
  /** reading the client secret from Key Vault (or the local source) */
  secret: CheckOutcome;
  /** a token request to Vantagepoint with that secret */
  tokenEndpoint: CheckOutcome;
  outboundIps: string[];
}

/** Why the base URL is not acceptable, or null when it is. */
function baseUrlProblem(baseUrl: string, development: boolean, resolved: HostResolution | undefined): string | null {
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
    return `The Vantagepoint host "${url.hostname}" is not public (loopback, private, reserved or local network); Connect needs a public HTTPS URL.`;
  }
  if (resolved && 'notFound' in resolved) return `The Vantagepoint host "${url.hostname}" does not resolve: ${resolved.message}`;
  if (resolved && 'addresses' in resolved) {
    const inner = resolved.addresses.map((a) => [a, nonPublicAddressRange(a)] as const).filter(([, range]) => range !== null);
    if (inner.length > 0) {
      return `The Vantagepoint host "${url.hostname}" resolves to addresses that are not public (${inner.map(([a, r]) => `${a}: ${r}`).join(', ')}); Connect needs a public HTTPS URL.`;
    }
  }
  return null;
}

function unknownResult<C extends string>(code: C, message: string): PrerequisiteResult<C> {
  return { code, ok: false, unknown: true, message };
}

function checkPublicUrl(facts: OrganisationFacts): PrerequisiteResult<'PUBLIC_URL'> {
  const problem = baseUrlProblem(facts.baseUrl, facts.environment === 'development', facts.resolved);
  if (problem !== null) return { code: 'PUBLIC_URL', ok: false, message: problem };
  if (facts.resolved && 'unknown' in facts.resolved) {
    return unknownResult('PUBLIC_URL', `Could not check: the Vantagepoint host name could not be resolved now (${facts.resolved.message}).`);
  }
  if (facts.tokenEndpoint.unknown) {
    return unknownResult('PUBLIC_URL', `Could not check: Vantagepoint did not answer a token request (${facts.tokenEndpoint.message}).`);
  }
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
  if (facts.secret.unknown) return unknownResult('API_CLIENT', `Could not check: the client secret could not be read now (${facts.secret.message}).`);
  if (!facts.secret.ok) return fail(`The client secret cannot be read: ${facts.secret.message}`);
  if (facts.tokenEndpoint.unknown) {
    return unknownResult('API_CLIENT', `Could not check: Vantagepoint did not answer a token request (${facts.tokenEndpoint.message}).`);
  }
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
  const odd = facts.outboundIps.map((ip) => [ip, nonPublicAddressRange(ip)] as const).filter(([, range]) => range !== null);
  if (odd.length > 0 && facts.environment !== 'development') {
    return {
      code: 'IP_ALLOWLIST',
      ok: false,
      message: `These outbound addresses are not public, so Vantagepoint never sees them: ${odd.map(([ip, r]) => `${ip} (${r})`).join(', ')}. Publish the app's public outbound addresses.`,
    };
  }
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

/**
 * A practical email check for Vantagepoint employee records: strict enough to refuse what
 * no mail provider would accept as a mailbox, without trying to implement all of RFC 5322
 * (quoted local parts, IP-literal domains and comments are refused on purpose: no
 * Microsoft 365 or Google Workspace mailbox uses them).
 */

const MAX_ADDRESS_LENGTH = 254; // RFC 5321 path limit minus the angle brackets
const MAX_LOCAL_LENGTH = 64;
const MAX_LABEL_LENGTH = 63;

const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/;
const TOP_LEVEL_DOMAIN = /^[A-Za-z]{2,}$/;

function isValidLocalPart(local: string): boolean {
  // The regex also refuses a leading/trailing dot and "..", which providers reject.
  return local.length >= 1 && local.length <= MAX_LOCAL_LENGTH && LOCAL_PART.test(local);
}

function isValidDomain(domain: string): boolean {
  const labels = domain.split('.');
  const tld = labels[labels.length - 1] ?? '';
  return (
    labels.length >= 2 &&
    labels.every((label) => label.length <= MAX_LABEL_LENGTH && DOMAIN_LABEL.test(label)) &&
    TOP_LEVEL_DOMAIN.test(tld)
  );
}

/**
 * True when `s`, once trimmed, is a usable mailbox address. Surrounding whitespace is tolerated
 * because Vantagepoint stores what people typed; callers should keep the trimmed value.
 */
export function isValidEmail(s: string): boolean {
  const address = s.trim();
  if (address.length === 0 || address.length > MAX_ADDRESS_LENGTH) return false;
  const parts = address.split('@');
  if (parts.length !== 2) return false;
  const [local, domain] = parts as [string, string];
  return isValidLocalPart(local) && isValidDomain(domain);
}

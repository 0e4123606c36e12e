/**
 * "Valid email address" for the ADMIN_EMPLOYEE and INVALID_EMAIL prerequisites: a pragmatic
 * RFC-5322-ish check (one @, non-empty local part, a dotted domain, no whitespace). The mail
 * provider is the final judge of whether a mailbox exists.
 */
export function isValidEmail(email: string): boolean {
  const parts = email.split('@');
  if (parts.length !== 2 || /\s/.test(email)) return false;
  const [local = '', domain = ''] = parts;
  const labels = domain.split('.');
  return local.length > 0 && labels.length >= 2 && labels.every((label) => label.length > 0);
}

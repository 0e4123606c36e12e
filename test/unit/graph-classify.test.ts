import { classify } from '../../shared/adapters/graph/operations';
import type { MailOperation } from '../../shared/ports';

/** Who a Graph answer is charged to: the member (mailbox-specific), nobody (organisation-level), or a retry. */
const create: MailOperation = { kind: 'create', employeeId: 'E1', mailbox: 'a@contoso.com', resource: 'events', expiresAt: '2030-01-01T00:00:00Z', clientState: 'x' };
const renew: MailOperation = { kind: 'renew', employeeId: 'E1', subscriptionId: 's1', expiresAt: '2030-01-01T00:00:00Z' };
const answer = (status: number, code: string, message = 'm', headers: Record<string, string> = {}) => ({ status, headers, body: { error: { code, message } } });

describe('classify: Graph answers by who caused them', () => {
  it.each([
    [404, 'MailboxNotEnabledForRESTAPI', 'MAILBOX_NOT_FOUND'],
    [400, 'ExtensionError', 'MAILBOX_NOT_FOUND'],
    [403, 'ErrorAccessDenied', 'MAILBOX_ACCESS_DENIED'],
  ])('%i %s is about that mailbox: permanent %s', (status, code, reason) => {
    expect(classify(create, answer(status, code))).toEqual({ kind: 'done', result: expect.objectContaining({ failure: 'permanent', reason }) });
  });

  it.each([
    [403, 'Authorization_RequestDenied'],
    [403, 'AccessDenied'],
  ])('%i %s is the app missing its permission: unavailable, never the member', (status, code) => {
    expect(classify(renew, answer(status, code))).toEqual({ kind: 'done', result: expect.objectContaining({ failure: 'unavailable', cause: 'PERMISSION' }) });
  });

  it('401 asks for a fresh token first', () => {
    expect(classify(renew, answer(401, 'InvalidAuthenticationToken'))).toMatchObject({ kind: 'reauthenticate', status: 401 });
  });

  it("SubscriptionCountReached is the mailbox's cap, as documented (403) or as seen (429 with a far Retry-After)", () => {
    const documented = classify(create, answer(403, 'ExtensionError', "Resource 'SubscriptionCountReached' has reached limit of '1000'."));
    const seen = classify(create, answer(429, 'TooManyRequests', "Resource 'SubscriptionCountReached' has reached limit of '1000'. Please retry after '12/31/9999 11:59:59 PM'", { 'Retry-After': '99999999' }));
    for (const verdict of [documented, seen]) expect(verdict).toEqual({ kind: 'done', result: expect.objectContaining({ failure: 'transient', code: 'SubscriptionCountReached' }) });
  });

  it('tells a mailbox 429 from a tenant 429', () => {
    expect(classify(create, answer(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'Retry-After': '2.5' }))).toMatchObject({ kind: 'throttled', scope: 'mailbox', retryAfterMs: 2500 });
    expect(classify(create, answer(429, 'TooManyRequests', 'Too many requests.', { 'Retry-After': '1' }))).toMatchObject({ kind: 'throttled', scope: 'tenant', retryAfterMs: 1000 });
  });

  it('reads the existing id from a 409, and copes without one', () => {
    expect(classify(create, answer(409, 'Conflict', 'Subscription Id 7f105c7d-2dc5-4530-97cd-4e7ae6534c07 already exists for the requested resource.'))).toEqual({
      kind: 'done',
      result: expect.objectContaining({ failure: 'exists', existingId: '7f105c7d-2dc5-4530-97cd-4e7ae6534c07' }),
    });
    const vague = classify(create, answer(409, 'Conflict', 'A subscription already exists.'));
    expect(vague).toEqual({ kind: 'done', result: expect.objectContaining({ failure: 'exists' }) });
    expect((vague as { result: { existingId?: string } }).result.existingId).toBeUndefined();
  });

  it('retries 5xx, 408 and a failed dependency; an unknown 403 counts as transient for the member, never as permanent', () => {
    for (const status of [500, 503, 504, 408, 424]) expect(classify(renew, answer(status, 'X')).kind).toBe('retry');
    expect(classify(renew, answer(403, 'SomethingNew'))).toEqual({ kind: 'done', result: expect.objectContaining({ failure: 'transient' }) });
  });
});

import fc from 'fast-check';
import { accessVerdict } from '../../shared/domain/graphAccess';
import type { MailOperationResult, ProviderAccessCause } from '../../shared/ports';

const unavailable = (cause: ProviderAccessCause): MailOperationResult => ({ ok: false, failure: 'unavailable', cause, status: 403, code: `C_${cause}`, message: cause });
const ok: MailOperationResult = { ok: true, subscriptionId: 's' };
const mailbox: MailOperationResult = { ok: false, failure: 'permanent', reason: 'MAILBOX_NOT_FOUND', status: 404, code: 'MailboxNotEnabledForRESTAPI', message: 'm' };

describe('accessVerdict: what provider results say about the app’s access to Graph', () => {
  it('nothing asked, nothing learnt', () => {
    expect(accessVerdict([])).toEqual({ kind: 'unknown' });
  });

  it('one app-wide refusal (credentials, token, permission) is enough, whatever else answered', () => {
    fc.assert(
      fc.property(fc.constantFrom<ProviderAccessCause>('CREDENTIALS', 'UNAUTHORIZED', 'PERMISSION'), fc.array(fc.constantFrom(ok, mailbox, unavailable('SERVICE'))), fc.nat(), (cause, others, at) => {
        const results = [...others];
        results.splice(at % (others.length + 1), 0, unavailable(cause));
        expect(accessVerdict(results)).toMatchObject({ kind: 'unavailable', cause });
      }),
    );
  });

  it('a service failure counts only when nothing got through', () => {
    expect(accessVerdict([unavailable('SERVICE'), unavailable('SERVICE')])).toMatchObject({ kind: 'unavailable', cause: 'SERVICE' });
    expect(accessVerdict([unavailable('SERVICE'), ok])).toEqual({ kind: 'reachable' });
    expect(accessVerdict([unavailable('SERVICE'), mailbox])).toEqual({ kind: 'reachable' });
  });

  it("a mailbox's own refusal still proves Graph is usable", () => {
    expect(accessVerdict([mailbox])).toEqual({ kind: 'reachable' });
  });
});

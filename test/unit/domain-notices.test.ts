import fc from 'fast-check';
import { composeNotice, type Notice } from '../../shared/domain/notices';

const list = ['ops@contoso.test', 'it@contoso.test'];

const suspended: Notice = {
  cause: 'user_suspended',
  episode: '2026-01-01T00:00:00.000Z',
  employeeId: 'E0227',
  name: 'Chloe Jensen',
  email: 'forbidden-chloe.jensen@contoso.test',
  groupId: 'sales',
  reason: 'MAILBOX_ACCESS_DENIED',
  detail: 'ErrorAccessDenied: Access is denied.',
};

describe('notification emails', () => {
  it('tells the suspended user and every listed address, once each', () => {
    const mails = composeNotice(suspended, list);
    expect(mails.map((m) => m.to)).toEqual(['forbidden-chloe.jensen@contoso.test', ...list]);
    expect(mails.map((m) => m.key)).toEqual(
      mails.map((m) => ({ recipient: m.to.toLowerCase(), cause: 'user_suspended', episode: suspended.episode })),
    );
  });

  it('says what stopped, for whom, why and what to do (the fix and the Force action) to administrators', () => {
    const [, admin] = composeNotice(suspended, list);
    expect(admin?.body).toMatch(/What stopped: Outlook synchronization/);
    expect(admin?.body).toMatch(/For whom: Chloe Jensen \(E0227, forbidden-chloe\.jensen@contoso\.test\), group sales/);
    expect(admin?.body).toMatch(/Why: Microsoft 365 refused access to this mailbox/);
    expect(admin?.body).toMatch(/application access policy/);
    expect(admin?.body).toMatch(/POST \/api\/users\/E0227\/sync\/force/);
  });

  it.each<[Notice, RegExp]>([
    [{ cause: 'graph_access_lost', episode: 'e1', detail: 'Authorization_RequestDenied' }, /Mail\.Send[\s\S]*sync\/force/],
    [{ cause: 'graph_access_recovered', episode: 'e1', detail: 'accepted again' }, /resumes/],
    [{ cause: 'vantagepoint_credential_failing', episode: 'e2', detail: 'invalid_client' }, /Key Vault[\s\S]*POST \/api\/connect\/token\/refresh/],
    [
      { cause: 'group_held', episode: 'e3', groupId: 'sales', groupName: 'Sales', count: 40, activeMembers: 50, limit: 10, detail: 'NO_USER_RECORD: 40' },
      /40 of the group's 50 active members[\s\S]*confirm-removals/,
    ],
  ])('an organisation-wide notice (%#) goes to the list only and names the fix and the action', (notice, fix) => {
    const mails = composeNotice(notice, list);
    expect(mails.map((m) => m.to)).toEqual(list);
    for (const m of mails) expect(m.body).toMatch(fix);
  });

  it('names the first people a held group would lose, and how many more', () => {
    const held: Notice = { cause: 'group_held', episode: 'e4', groupId: 'sales', groupName: 'Sales', count: 5, activeMembers: 50, limit: 10, people: ['Ann Lee (E0010)', 'Bo Chan (E0011)'], detail: '' };
    expect(composeNotice(held, list)[0]?.body).toMatch(/For whom: 5 of the group's 50 active members .*: Ann Lee \(E0010\), Bo Chan \(E0011\) and 3 more\./);
    expect(composeNotice({ ...held, people: [] }, list)[0]?.body).toMatch(/\(the limit is 10\)\./);
  });

  it('sends nothing for an organisation notice when nobody is listed, but still tells a suspended user', () => {
    expect(composeNotice({ cause: 'graph_access_lost', episode: 'x', detail: '' }, [])).toEqual([]);
    expect(composeNotice(suspended, []).map((m) => m.to)).toEqual([suspended.email]);
    expect(composeNotice({ ...suspended, email: 'not an address' }, [])).toEqual([]);
  });

  it('never addresses one recipient twice, whatever the list (case ignored)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('A@contoso.test', 'a@contoso.test', 'b@contoso.test', 'FORBIDDEN-chloe.jensen@contoso.test')), (addresses) => {
        const recipients = composeNotice(suspended, addresses).map((m) => m.key.recipient);
        expect(new Set(recipients).size).toBe(recipients.length);
      }),
    );
  });
});

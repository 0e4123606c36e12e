import { PutSettingsBody } from '../../shared/api/schemas';

const addresses = (n: number) => Array.from({ length: n }, (_, i) => `admin${i}@contoso.test`);

describe('PUT /api/connect/settings body', () => {
  it('accepts up to 20 valid addresses and a threshold', () => {
    expect(PutSettingsBody.parse({ notificationEmails: addresses(20), massRemovalGuard: { percent: 20, minimum: 10 } }).notificationEmails).toHaveLength(20);
    expect(PutSettingsBody.parse({ notificationEmails: [' ops@contoso.test '] }).notificationEmails).toEqual(['ops@contoso.test']);
  });

  it.each([
    [{ notificationEmails: addresses(21) }, ['notificationEmails']],
    [{ notificationEmails: ['ops@contoso.test', 'not-an-address'] }, ['notificationEmails', 1]],
    [{ notificationEmails: ['ops@contoso.test', 'OPS@contoso.test'] }, ['notificationEmails']],
    [{ massRemovalGuard: { percent: 0, minimum: 10 } }, ['massRemovalGuard', 'percent']],
    [{ massRemovalGuard: { percent: 20 } }, ['massRemovalGuard', 'minimum']],
    [{ other: true }, []],
    [{}, []],
  ])('refuses %j naming the field', (body, path) => {
    const result = PutSettingsBody.safeParse(body);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path)).toContainEqual(path);
  });
});

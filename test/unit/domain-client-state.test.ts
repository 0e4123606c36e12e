import fc from 'fast-check';
import { isSignedClientState, MAX_CLIENT_STATE_LENGTH, signClientState, verifyClientState } from '../../shared/domain/clientState';
import type { MailResource } from '../../shared/domain/model';

const key = fc.string({ minLength: 32, maxLength: 64 });
// EmployeeId (shared/api/schemas.ts): 1–32 of letters, digits, "_", "." or "-".
const employeeId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/);
const resource = fc.constantFrom<MailResource>('events', 'contacts', 'messages');

describe('signed clientState', () => {
  it('verifies with the key it was signed with and names its owner; fits Graph’s 128 characters', () => {
    fc.assert(
      fc.property(key, employeeId, resource, (k, e, r) => {
        const value = signClientState([k], { employeeId: e, resource: r });
        expect(value.length).toBeLessThanOrEqual(MAX_CLIENT_STATE_LENGTH);
        expect(isSignedClientState(value)).toBe(true);
        expect(verifyClientState([k], value)).toEqual({ employeeId: e, resource: r });
      }),
    );
  });

  it('during a rotation both keys verify and the first signs; a key no longer listed does not verify', () => {
    fc.assert(
      fc.property(key, key, employeeId, resource, (next, old, e, r) => {
        fc.pre(next !== old);
        const byOld = signClientState([old], { employeeId: e, resource: r });
        expect(verifyClientState([next, old], byOld)).toEqual({ employeeId: e, resource: r });
        expect(signClientState([next, old], { employeeId: e, resource: r })).toBe(signClientState([next], { employeeId: e, resource: r }));
        expect(verifyClientState([next], byOld)).toBeNull();
      }),
    );
  });

  it('refuses any change to the owner, the resource or the MAC', () => {
    fc.assert(
      fc.property(key, employeeId, employeeId, resource, resource, (k, e, other, r, otherResource) => {
        fc.pre(e !== other || r !== otherResource);
        const value = signClientState([k], { employeeId: e, resource: r });
        const [, , , mac] = value.split('.');
        const forged = ['v2', otherResource, Buffer.from(other).toString('base64url'), mac].join('.');
        expect(verifyClientState([k], forged)).toBeNull();
      }),
    );
    fc.assert(
      fc.property(key, employeeId, resource, fc.nat(), (k, e, r, at) => {
        const value = signClientState([k], { employeeId: e, resource: r });
        const i = value.length - 1 - (at % 43);
        const flipped = value.slice(0, i) + (value[i] === 'A' ? 'B' : 'A') + value.slice(i + 1);
        expect(verifyClientState([k], flipped)).toBeNull();
      }),
    );
  });

  it('refuses what is not a signed clientState: missing, legacy random values, junk', () => {
    const k = 'k'.repeat(40);
    for (const value of [undefined, '', 'v2', 'v2.events..', 'v2.calendars.RTAwMDE.' + 'A'.repeat(43), 'x'.repeat(129), 'aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29y']) {
      expect(verifyClientState([k], value)).toBeNull();
    }
    expect(isSignedClientState('aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29y')).toBe(false);
  });
});

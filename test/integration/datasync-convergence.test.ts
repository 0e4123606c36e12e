/**
 * Property: whatever happens to a user's meetings and however notifications arrive (late,
 * twice, at the same time, or lost and made up by a resync), once every change has been
 * consumed, Vantagepoint holds exactly one activity per meeting that passes the rules, with
 * its current subject, and none for the others. Real adapters: Azurite and both emulators.
 */
import fc from 'fast-check';
import { referenceLine, syncReference } from '../../shared/domain/events';
import { startDataSyncHarness, meetingBody, type DataSyncHarness } from '../support/dataSync';
import { mailboxOf } from '../support/reconcile';

let h: DataSyncHarness;
let runs = 0;

beforeAll(async () => {
  h = await startDataSyncHarness();
});
afterAll(async () => {
  await h?.stop();
});

type Command =
  | { kind: 'create'; slot: number; tagged: boolean; private: boolean }
  | { kind: 'edit'; slot: number; subject: string }
  | { kind: 'tag'; slot: number; tagged: boolean }
  | { kind: 'privacy'; slot: number; private: boolean }
  | { kind: 'cancel'; slot: number }
  | { kind: 'delete'; slot: number }
  | { kind: 'notify'; slot: number; copies: 1 | 2 | 3 }
  | { kind: 'resync' };

const slot = fc.integer({ min: 0, max: 2 });
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('create' as const), slot, tagged: fc.boolean(), private: fc.boolean() }),
  fc.record({ kind: fc.constant('edit' as const), slot, subject: fc.constantFrom('Alpha', 'Beta', 'Gamma review') }),
  fc.record({ kind: fc.constant('tag' as const), slot, tagged: fc.boolean() }),
  fc.record({ kind: fc.constant('privacy' as const), slot, private: fc.boolean() }),
  fc.record({ kind: fc.constant('cancel' as const), slot }),
  fc.record({ kind: fc.constant('delete' as const), slot }),
  fc.record({ kind: fc.constant('notify' as const), slot, copies: fc.constantFrom(1 as const, 2 as const, 3 as const) }),
  fc.constant({ kind: 'resync' as const }),
);

describe('data sync convergence', () => {
  it('ends with exactly one activity per eligible meeting, whatever the order and duplication of notifications', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 12 }), async (commands) => {
        const user = `CV${String(++runs).padStart(4, '0')}`;
        const mailbox = mailboxOf(user);
        await h.addSyncingUser(user);
        const ids: Array<string | null> = [null, null, null];
        const everCreated = new Set<string>();
        const notify = (eventId: string, changeType: string) => h.consume(h.message(user, { eventId, changeType }));

        for (const c of commands) {
          const id = 'slot' in c ? ids[c.slot] : null;
          switch (c.kind) {
            case 'create':
              if (id) break;
              {
                const event = h.graph.calendars.create(
                  mailbox,
                  meetingBody(`Meeting ${c.slot}`, { categories: c.tagged ? ['Vantagepoint'] : [], sensitivity: c.private ? 'private' : 'normal' }),
                );
                ids[c.slot] = event.id;
                everCreated.add(event.id);
              }
              break;
            case 'edit':
              if (id) h.graph.calendars.update(mailbox, id, { subject: c.subject });
              break;
            case 'tag':
              if (id) h.graph.calendars.update(mailbox, id, { categories: c.tagged ? ['Vantagepoint'] : ['Personal'] });
              break;
            case 'privacy':
              if (id) h.graph.calendars.update(mailbox, id, { sensitivity: c.private ? 'private' : 'normal' });
              break;
            case 'cancel':
              if (id) h.graph.calendars.update(mailbox, id, { isCancelled: true });
              break;
            case 'delete':
              if (id) {
                h.graph.calendars.remove(mailbox, id);
                ids[c.slot] = null;
              }
              break;
            case 'notify':
              // duplicates consumed at the same time; a loser is rescheduled (its copy is simply re-sent below)
              if (id) await Promise.all(Array.from({ length: c.copies }, () => notify(id, 'updated')));
              break;
            case 'resync':
              await h.consume(h.message(user, { kind: 'resync' }));
              break;
          }
          // never two activities for one meeting, at any point
          const refs = h.activities().filter((a) => a.Owner === user).map((a) => String(a.Notes).slice(-48));
          expect(new Set(refs).size).toBe(refs.length);
        }

        // Settle: every change is eventually consumed (the notifications Graph owes, then a resync).
        for (const eventId of everCreated) {
          const alive = ids.includes(eventId);
          await notify(eventId, alive ? 'updated' : 'deleted');
        }
        await h.consume(h.message(user, { kind: 'resync' }));

        const expected = h.graph.calendars
          .list(mailbox)
          .filter((e) => (e.input.categories ?? []).includes('Vantagepoint') && e.input.sensitivity !== 'private' && !e.input.isCancelled)
          .map((e) => ({ ref: referenceLine(syncReference(user, e.id)), subject: e.input.subject }));
        const actual = h.activities()
          .filter((a) => a.Owner === user)
          .map((a) => ({ ref: String(a.Notes).slice(String(a.Notes).indexOf('[Connect Sync')), subject: a.Subject }));
        expect(actual.sort((a, b) => a.ref.localeCompare(b.ref))).toEqual(expected.sort((a, b) => a.ref.localeCompare(b.ref)));
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});

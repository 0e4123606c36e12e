/**
 * Each notification email case end to end, in process: the producer (reconciler, timer
 * check, the Graph breaker tripped by the emulator's refusals) queues a notice, the outbox
 * sends it through the Graph emulator's sendMail, and a repeat — a second run, a redelivered
 * message, a second instance, the sweep — sends nothing twice.
 */
import { GRAPH_EMULATOR_DEFAULTS } from '../../dev/emulators/graph/server';
import { startVantagepointEmulator, type VantagepointEmulator } from '../../dev/emulators/vantagepoint/server';
import { createMailer, createMailProvider } from '../../shared/adapters/graph';
import { createSecretSource } from '../../shared/adapters/secrets';
import { createVantagepointDirectory } from '../../shared/adapters/vantagepoint';
import { checkVantagepointCredential, graphAccessNotices } from '../../shared/operations/incidents';
import { deliverNotice } from '../../shared/operations/outbox';
import { currentGraphAccess } from '../../shared/operations/graphAccess';
import { handleReconcileRequest, reconcileGroup, reconcileUser, sweep } from '../../shared/operations/reconcile';
import { forceUserSync, updateUserState } from '../../shared/operations/userSync';
import type { Mailer, NoticeMessage } from '../../shared/ports';
import { collectingLog, mailboxOf, startHarness, type Harness } from '../support/reconcile';

const LIST = ['ops@contoso.test', 'it@contoso.test'];
let h: Harness;
let mailer: Mailer;
let vantagepoint: VantagepointEmulator;
const env: Record<string, string> = { VANTAGEPOINT_CLIENT_SECRET: 'local-dev-secret', VANTAGEPOINT_SERVICE_PASSWORD: 'connect-service', GRAPH_CLIENT_SECRET: GRAPH_EMULATOR_DEFAULTS.clientSecret };

beforeAll(async () => {
  vantagepoint = await startVantagepointEmulator({ port: 0 });
  h = await startHarness({
    settings: {
      VANTAGEPOINT_BASE_URL: vantagepoint.url,
      VANTAGEPOINT_SERVICE_USERNAME: 'connect-service',
      VANTAGEPOINT_SERVICE_PASSWORD: 'connect-service',
      VANTAGEPOINT_CLIENT_SECRET: 'local-dev-secret',
      GRAPH_RESOURCES: 'events',
      NOTIFICATION_SENDER: 'connect-notifications@contoso.test',
    },
  });
  mailer = createMailer(h.config, createSecretSource(h.config, { env })) as Mailer;
  await h.storage.settings.save({ notificationEmails: LIST, massRemovalGuard: { percent: 20, minimum: 10 }, updatedAt: null, updatedBy: null }, null);
});

afterAll(async () => {
  await h?.stop();
  await vantagepoint?.stop();
});

/** Delivers every queued notice as the queue trigger would; returns them. */
async function deliverAll(): Promise<NoticeMessage[]> {
  const notices = await h.takeNotices();
  for (const message of notices) await deliverNotice({ storage: h.storage, mailer }, message, { now: h.clock.now, log: () => undefined });
  return notices;
}
const mailTo = (address: string) => h.graph.sentMail().filter((m) => m.to.includes(address));

describe('a user suspended', () => {
  it('emails the user and the list once per suspension, however often the reconciler sees it', async () => {
    const forbidden = 'E0301';
    h.graph.setFaults({ forbiddenMailboxes: [mailboxOf(forbidden)] });
    const group = await h.addGroup('enabled', [{ employeeId: forbidden }, { employeeId: 'E0302' }]);
    const pass = () => reconcileGroup(h.deps, { groupId: group.id, reason: 'test', requestId: 'p' }, h.options());

    expect((await pass()).counts).toMatchObject({ active: 1, suspended: 1 });
    const state = await h.storage.userState.get(forbidden);
    expect(state).toMatchObject({ suspendedReason: 'MAILBOX_ACCESS_DENIED', suspendedAt: expect.any(String) });
    expect(state?.suspensionNoticeFor).toBe(state?.suspendedAt);
    const [notice] = await deliverAll();
    expect(notice?.notice).toMatchObject({ cause: 'user_suspended', employeeId: forbidden, reason: 'MAILBOX_ACCESS_DENIED', episode: `${forbidden}@${state?.suspendedAt}` });
    expect(mailTo(mailboxOf(forbidden))).toEqual([expect.objectContaining({ subject: expect.stringMatching(/stopped/), body: expect.stringMatching(/refused access/) })]);
    for (const address of LIST) expect(mailTo(address).filter((m) => m.body.includes(forbidden))).toHaveLength(1);

    // later passes see the same suspension: no new notice
    h.clock.advance(60_000);
    await pass();
    expect(await h.takeNotices()).toEqual([]);

    // a run that suspended them but died before queueing the notice is made good by the next; the outbox still sends once
    await updateUserState(h.deps, forbidden, h.clock.now(), (s) => ({ ...s, suspensionNoticeFor: null }));
    await pass();
    const again = await deliverAll();
    expect(again.map((n) => n.notice.episode)).toEqual([notice?.notice.episode]);
    expect(mailTo(mailboxOf(forbidden))).toHaveLength(1);
    for (const address of LIST) expect(mailTo(address).filter((m) => m.body.includes(forbidden))).toHaveLength(1);

    // Force clears the suspension; failing again is a new suspension: a new email
    await forceUserSync(h.deps, forbidden, h.context());
    h.clock.advance(60_000);
    await pass();
    await deliverAll();
    expect(mailTo(mailboxOf(forbidden))).toHaveLength(2);
  });
});

describe('a user suspended after 10 consecutive failed synchronizations', () => {
  it('emails the user and the list once, with the last error, the fix and the Force action', async () => {
    const id = 'E0330';
    await h.addGroup('enabled', [{ employeeId: id }]);
    // no transient retries inside a run, so ten failing runs are quick
    const deps = { ...h.deps, mail: createMailProvider(h.config, createSecretSource(h.config, { env }), { maxTransientRetries: 0 }) };
    h.graph.setFaults({ forbiddenMailboxes: [], errorRate: 1 });
    for (let run = 1; run <= 10; run++) {
      await reconcileUser(deps, id, h.options());
      const state = await h.storage.userState.get(id);
      expect(state?.consecutiveFailures).toBe(run);
      if (run < 10) h.clock.passTo(state?.nextRetryAt ?? '');
    }
    h.graph.setFaults({ errorRate: 0 });
    expect(await h.storage.userState.get(id)).toMatchObject({ suspendedReason: 'TOO_MANY_FAILURES' });
    expect((await deliverAll()).map((n) => n.notice)).toEqual([expect.objectContaining({ cause: 'user_suspended', employeeId: id, reason: 'TOO_MANY_FAILURES' })]);
    expect(mailTo(mailboxOf(id))).toEqual([expect.objectContaining({ body: expect.stringMatching(/failed too many times in a row/) })]);
    for (const address of LIST) {
      expect(mailTo(address).filter((m) => m.body.includes(id))).toEqual([
        expect.objectContaining({ body: expect.stringMatching(new RegExp(`too many times in a row\\. Last error[^\\n]*ServiceUnavailable[\\s\\S]*POST /api/users/${id}/sync/force`)) }),
      ]);
    }
    // suspended: later runs do nothing, and nothing is sent again
    await reconcileUser(deps, id, h.options());
    expect(await h.takeNotices()).toEqual([]);
  });
});

describe('the Vantagepoint API credential failing', () => {
  it('emails the list once when the credential is refused, and closes the incident when it works again', async () => {
    const directory = createVantagepointDirectory(h.config, createSecretSource(h.config, { env }));
    const ctx = { now: h.clock.now, log: collectingLog().log, requestId: 'sweep-1' };
    expect(await checkVantagepointCredential({ storage: h.storage, directory }, ctx)).toBe('ok');
    expect(await h.takeNotices()).toEqual([]);

    vantagepoint.rotateSecret('generated-in-vantagepoint'); // "Generate new secret": the stored one stops working
    expect(await checkVantagepointCredential({ storage: h.storage, directory }, ctx)).toBe('failing');
    expect(await checkVantagepointCredential({ storage: h.storage, directory }, ctx)).toBe('failing');
    const notices = await deliverAll();
    expect(notices.map((n) => n.notice.cause)).toEqual(['vantagepoint_credential_failing']);
    for (const address of LIST) {
      expect(mailTo(address).filter((m) => m.subject.includes('Vantagepoint API credential'))).toEqual([
        expect.objectContaining({ body: expect.stringMatching(/Key Vault[\s\S]*POST \/api\/connect\/token\/refresh/) }),
      ]);
    }

    env.VANTAGEPOINT_CLIENT_SECRET = 'generated-in-vantagepoint';
    expect(await checkVantagepointCredential({ storage: h.storage, directory }, ctx)).toBe('ok');
    expect(await h.storage.incidents.get('vantagepoint-credential')).toBeNull();
  });
});

describe('Graph access lost for the organisation and recovered', () => {
  const accessMail = (address: string) => mailTo(address).filter((m) => m.subject.includes('Microsoft 365 access')).map((m) => m.subject);

  it('emails the list once when the breaker trips (not once per member) and once when the probe finds access back', async () => {
    h.graph.setFaults({ forbiddenMailboxes: [], appPermission: 'revoked' });
    const group = await h.addGroup('enabled', ['E0310', 'E0311', 'E0312'].map((employeeId) => ({ employeeId })));
    const deps = { ...h.deps, graphAccessListeners: [graphAccessNotices(h.deps)] };
    await reconcileGroup(deps, { groupId: group.id, reason: 'test', requestId: 'lost' }, h.options());
    const access = await currentGraphAccess(deps, true);
    expect(access).toMatchObject({ state: 'failing', cause: 'PERMISSION' });
    const [lost, ...more] = await h.takeNotices();
    expect(more).toEqual([]); // three members met the refusal: one notice
    expect(lost?.notice).toMatchObject({ cause: 'graph_access_lost', episode: `graph-access@${access.since}`, detail: expect.stringMatching(/Authorization_RequestDenied/) });
    // told again (another instance, the sweep): nothing more is queued
    await graphAccessNotices(h.deps).graphAccessChanged({ kind: 'lost', cause: 'PERMISSION', code: access.code, message: access.message, since: access.since as string, at: access.since as string }, () => undefined);
    await sweep(h.deps, { ...h.options(), requestId: 'sweep-while-lost' });
    expect(await h.takeNotices()).toEqual([]);

    // The sender's mailbox is refused like every other while the permission is revoked: the email waits for its retry.
    const outbox = { storage: h.storage, mailer };
    expect(await deliverNotice(outbox, lost as NoticeMessage, { now: h.clock.now, log: () => undefined })).toMatchObject({ sent: 0, failed: LIST.length, retryScheduled: true });
    h.graph.setFaults({ appPermission: 'granted' });
    expect(await deliverNotice(outbox, { ...(lost as NoticeMessage), attempt: 2 }, { now: h.clock.now, log: () => undefined })).toMatchObject({ sent: LIST.length });

    h.clock.advance(30_000);
    expect(await handleReconcileRequest(deps, { probeGraph: true, reason: 'graph.probe', requestId: 'probe' }, h.options())).toBe(true);
    expect((await deliverAll()).map((n) => n.notice)).toEqual([expect.objectContaining({ cause: 'graph_access_recovered', episode: `graph-access@${access.since}` })]);
    for (const address of LIST) expect(accessMail(address)).toEqual([expect.stringMatching(/lost/), expect.stringMatching(/restored/)]);
    expect(await h.storage.incidents.get('graph-access')).toBeNull();
  });

  it('is told by the next sweep when the instance that tripped the breaker never queued the notice, and so is the recovery', async () => {
    await h.takeReconcileRequests();
    h.graph.setFaults({ appPermission: 'revoked' });
    const group = await h.addGroup('enabled', ['E0320', 'E0321'].map((employeeId) => ({ employeeId })));
    h.clock.advance(60_000);
    // no listener: as if the instance died between writing the breaker and telling its listeners
    await reconcileGroup(h.deps, { groupId: group.id, reason: 'test', requestId: 'lost-quietly' }, h.options());
    const access = await currentGraphAccess(h.deps, true);
    expect(access.state).toBe('failing');
    expect(await h.takeNotices()).toEqual([]);

    await sweep(h.deps, { ...h.options(), requestId: 'sweep-1' });
    await sweep(h.deps, { ...h.options(), requestId: 'sweep-2' });
    h.graph.setFaults({ appPermission: 'granted' });
    expect((await deliverAll()).map((n) => n.notice)).toEqual([expect.objectContaining({ cause: 'graph_access_lost', episode: `graph-access@${access.since}` })]);

    // the probe closes the breaker (still no listener); its sweep tells the recovery
    h.clock.advance(30_000);
    expect(await handleReconcileRequest(h.deps, { probeGraph: true, reason: 'graph.probe', requestId: 'probe-2' }, h.options())).toBe(true);
    expect((await deliverAll()).map((n) => n.notice.cause)).toEqual(['graph_access_recovered']);
    for (const address of LIST) expect(accessMail(address)).toHaveLength(4);
    await h.takeReconcileRequests();
  });
});

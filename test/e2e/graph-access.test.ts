/**
 * The provider-health breaker, in process against real adapters: errors about the whole app
 * (a revoked permission, expired credentials) charge no member, stop the reconciler, show in
 * connect status, are told to the listeners once each way, and a probe brings everything back.
 */
import { handleReconcileRequest, reconcileGroup } from '../../shared/operations/reconcile';
import { currentGraphAccess } from '../../shared/operations/graphAccess';
import { loadUserSync } from '../../shared/operations/userSync';
import type { GraphAccessEvent, ReconcileQueue, ReconcileRequest } from '../../shared/ports';
import { startHarness, uniqueSuffix, type Harness } from '../support/reconcile';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ settings: { GRAPH_WRITE_LIMIT: '2000' }, provider: { maxTransientRetries: 0 } });
});
afterAll(async () => {
  await h?.stop();
});
afterEach(() => {
  h.graph.setFaults({ appPermission: 'granted', credentials: 'valid' });
});

/** The harness's adapters with the reconcile queue recorded (delayed messages included) and a listener. */
function observed() {
  const sent: Array<{ message: ReconcileRequest; delaySeconds?: number }> = [];
  const events: GraphAccessEvent[] = [];
  const reconcileQueue: ReconcileQueue = {
    request: (message, options) => {
      sent.push({ message, delaySeconds: options?.delaySeconds });
      return Promise.resolve();
    },
  };
  const deps = {
    ...h.deps,
    storage: { ...h.storage, reconcileQueue },
    graphAccessListeners: [{ graphAccessChanged: (e: GraphAccessEvent) => Promise.resolve(void events.push(e)) }],
  };
  return { deps, sent, events };
}

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `G${uniqueSuffix()}${i}`);

async function statuses(employeeIds: string[]): Promise<string[]> {
  return Promise.all(employeeIds.map(async (id) => (await loadUserSync(h.deps, id, h.clock.now())).status));
}

describe('the provider-health breaker', () => {
  it('trips on a revoked permission without charging anyone, skips work while open, and a probe resumes every group', async () => {
    const members = ids(3);
    const group = await h.addGroup('enabled', members.map((employeeId) => ({ employeeId })));
    const { deps, sent, events } = observed();
    h.graph.setFaults({ appPermission: 'revoked' });

    await reconcileGroup(deps, { groupId: group.id, reason: 'test', requestId: 'r1' }, h.options());
    for (const id of members) {
      const state = await h.storage.userState.get(id);
      expect(state?.suspendedReason ?? null).toBeNull();
      expect(state?.consecutiveFailures ?? 0).toBe(0);
    }
    expect(await statuses(members)).toEqual(['pending', 'pending', 'pending']);
    const access = await currentGraphAccess(deps, true);
    expect(access).toMatchObject({ state: 'failing', cause: 'PERMISSION', code: 'Authorization_RequestDenied' });
    expect(events).toEqual([expect.objectContaining({ kind: 'lost', cause: 'PERMISSION', since: access.since })]);
    const probes = sent.filter((s) => s.message.probeGraph);
    expect(probes).toEqual([{ message: expect.objectContaining({ probeGraph: true }), delaySeconds: 20 }]);

    // While open, a run leaves the provider alone.
    const requests = h.graph.stats().requests;
    await reconcileGroup(deps, { groupId: group.id, reason: 'test', requestId: 'r2' }, h.options());
    expect(h.graph.stats().requests).toBe(requests);

    // Still revoked: the probe fails and schedules the next one; nobody charged.
    await handleReconcileRequest(deps, (probes[0] as { message: ReconcileRequest }).message, h.options());
    expect((await currentGraphAccess(deps, true)).state).toBe('failing');
    expect(sent.filter((s) => s.message.probeGraph)).toHaveLength(2);
    expect(events).toHaveLength(1);

    // Granted again: the next probe closes the breaker, tells the listeners once, and sweeps every group.
    h.graph.setFaults({ appPermission: 'granted' });
    h.clock.advance(30_000);
    const before = sent.length;
    await handleReconcileRequest(deps, { probeGraph: true, reason: 'graph.probe', requestId: 'p2' }, h.options());
    expect(await currentGraphAccess(deps, true)).toMatchObject({ state: 'ok', cause: null });
    expect(events.map((e) => e.kind)).toEqual(['lost', 'recovered']);
    const swept = sent.slice(before).map((s) => s.message);
    expect(swept).toEqual(expect.arrayContaining([expect.objectContaining({ groupId: group.id, reason: 'sweep' })]));
    for (const message of swept.filter((m) => m.groupId === group.id)) await handleReconcileRequest(deps, message, h.options());
    expect(await statuses(members)).toEqual(['active', 'active', 'active']);
  });

  it('trips on expired credentials (token requests refused) and names the cause', async () => {
    const members = ids(2);
    const group = await h.addGroup('enabled', members.map((employeeId) => ({ employeeId })));
    const { deps, events } = observed();
    h.graph.setFaults({ credentials: 'expired' });
    h.graph.advanceClock(3_600_000); // the cached token expires at the emulator; a new one is refused
    await reconcileGroup(deps, { groupId: group.id, reason: 'test', requestId: 'c1' }, h.options());
    expect(await currentGraphAccess(deps, true)).toMatchObject({ state: 'failing', cause: 'CREDENTIALS' });
    expect(events).toEqual([expect.objectContaining({ kind: 'lost', cause: 'CREDENTIALS' })]);
    for (const id of members) expect((await h.storage.userState.get(id))?.consecutiveFailures ?? 0).toBe(0);

    h.graph.setFaults({ credentials: 'valid' });
    h.clock.advance(30_000);
    await handleReconcileRequest(deps, { probeGraph: true, reason: 'graph.probe', requestId: 'p3' }, h.options());
    expect((await currentGraphAccess(deps, true)).state).toBe('ok');
  });
});

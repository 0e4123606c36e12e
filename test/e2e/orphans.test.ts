/**
 * Orphans — subscriptions Graph holds that our table does not name (a lost create response) —
 * are found without listing the tenant on a user's reconcile: the 409's message names the
 * existing subscription, and a delayed re-check deletes it if it is still not ours. The paced
 * repair job lists the tenant for the rest.
 */
import { startNotificationReceiver } from '../../dev/emulators/graph/server';
import { handleReconcileRequest, reconcileUser, repairTenant } from '../../shared/operations/reconcile';
import type { MailProvider, ReconcileQueue, ReconcileRequest } from '../../shared/ports';
import { mailboxOf, startHarness, uniqueSuffix, type Harness } from '../support/reconcile';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ settings: { GRAPH_WRITE_LIMIT: '2000' }, provider: { maxTransientRetries: 0 } });
});
afterAll(async () => {
  await h?.stop();
});

/** The harness's adapters, with the reconcile queue recorded and the tenant list counted. */
function observed(): { deps: Harness['deps']; sent: Array<{ message: ReconcileRequest; delaySeconds?: number }>; lists: () => number } {
  const sent: Array<{ message: ReconcileRequest; delaySeconds?: number }> = [];
  let lists = 0;
  const reconcileQueue: ReconcileQueue = {
    request: (message, options) => {
      sent.push({ message, delaySeconds: options?.delaySeconds });
      return Promise.resolve();
    },
  };
  const mail: MailProvider = {
    apply: (ops) => h.mail.apply(ops),
    listSubscriptions: (cursor) => {
      lists++;
      return h.mail.listSubscriptions(cursor);
    },
  };
  return { deps: { ...h.deps, mail, storage: { ...h.storage, reconcileQueue } }, sent, lists: () => lists };
}

const expiringIn = (minutes: number): string => new Date(Date.now() + minutes * 60_000).toISOString();

async function orphanFor(employeeId: string, expiresAt = expiringIn(4320)): Promise<string> {
  const [created] = await h.mail.apply([{ kind: 'create', employeeId, mailbox: mailboxOf(employeeId), resource: 'events', expiresAt, clientState: 'lost-response' }]);
  if (!created?.ok || !created.subscriptionId) throw new Error(`orphan not created: ${JSON.stringify(created)}`);
  return created.subscriptionId;
}

describe('orphans on the hot path', () => {
  it('schedules a delayed re-check from the 409 without listing the tenant, then deletes the orphan and recreates one we own', async () => {
    const employeeId = `O${uniqueSuffix()}`;
    await h.addGroup('enabled', [{ employeeId }]);
    const orphan = await orphanFor(employeeId);
    const { deps, sent, lists } = observed();

    await reconcileUser(deps, employeeId, h.options());
    expect(lists()).toBe(0);
    expect(h.liveFor(employeeId).map((s) => s.id)).toContain(orphan); // not deleted on the hot path
    expect(sent).toEqual([
      { message: expect.objectContaining({ employeeId, reason: 'orphan.recheck', orphans: [{ resource: 'events', subscriptionId: orphan }] }), delaySeconds: 60 },
    ]);

    await handleReconcileRequest(deps, (sent[0] as { message: ReconcileRequest }).message, h.options());
    expect(lists()).toBe(0);
    const live = h.liveFor(employeeId);
    expect(live.map((s) => s.id)).not.toContain(orphan);
    const rows = await h.storage.subscriptions.listForUser(employeeId);
    expect(rows.map((r) => r.subscriptionId).sort()).toEqual(live.map((s) => s.id).sort());
    expect(rows.map((r) => r.resource).sort()).toEqual(['contacts', 'events', 'messages']);
  });

  it('leaves a subscription alone when the re-check finds that an overlapping run saved it', async () => {
    const employeeId = `O${uniqueSuffix()}`;
    await h.addGroup('enabled', [{ employeeId }]);
    await reconcileUser(h.deps, employeeId, h.options());
    const events = (await h.storage.subscriptions.listForUser(employeeId)).find((r) => r.resource === 'events');
    const { deps } = observed();
    await handleReconcileRequest(deps, { employeeId, reason: 'orphan.recheck', requestId: 'r', orphans: [{ resource: 'events', subscriptionId: events?.subscriptionId }] }, h.options());
    expect(h.liveFor(employeeId).map((s) => s.id)).toContain(events?.subscriptionId);
  });
});

describe('the paced tenant repair', () => {
  it('deletes old orphans at our notification URL, and leaves young ones, known ones and other deployments alone', async () => {
    const known = `K${uniqueSuffix()}`;
    await h.addGroup('enabled', [{ employeeId: known }]);
    await reconcileUser(h.deps, known, h.options());
    const old = await orphanFor(`A${uniqueSuffix()}`, expiringIn(4320 - 60));
    const young = await orphanFor(`Y${uniqueSuffix()}`, expiringIn(4320));
    const elsewhere = await startNotificationReceiver();
    try {
      const otherEmployee = `X${uniqueSuffix()}`;
      const { createMailProvider } = await import('../../shared/adapters/graph');
      const { createSecretSource } = await import('../../shared/adapters/secrets');
      const otherConfig = { ...h.config, GRAPH_NOTIFICATION_URL: elsewhere.url };
      const other = createMailProvider(otherConfig, createSecretSource(otherConfig, { env: { GRAPH_CLIENT_SECRET: h.config.GRAPH_CLIENT_SECRET ?? '' } }));
      const [foreign] = await other.apply([{ kind: 'create', employeeId: otherEmployee, mailbox: mailboxOf(otherEmployee), resource: 'events', expiresAt: expiringIn(4320 - 60), clientState: 'x' }]);
      const foreignId = foreign?.ok ? foreign.subscriptionId : undefined;
      expect(foreignId).toBeDefined();

      const repair = await repairTenant(h.deps, { repairOrphans: true, reason: 'repair', requestId: 'repair-test' }, h.options());
      expect(repair).toMatchObject({ complete: true, deleted: 1 });
      const ids = h.graph.subscriptions().map((s) => s.id);
      expect(ids).not.toContain(old);
      expect(ids).toEqual(expect.arrayContaining([young, foreignId, ...h.liveFor(known).map((s) => s.id)]));
      expect(h.liveFor(known)).toHaveLength(3);
    } finally {
      await elsewhere.stop();
    }
  });
});

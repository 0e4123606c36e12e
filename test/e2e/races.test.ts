/**
 * Races on the code that ships (issue 9 item 7): fast-check's scheduler interleaves the
 * real operations (add, move, remove, delete, force, toggle, group passes, the release
 * job) over the real stores on Azurite. Every storage and provider call is a scheduling
 * point: the call is made, and its caller resumes only when the scheduler says so, so each
 * run explores another order of steps across the operations. The provider is an in-memory
 * fake with Graph's semantics (test/support/fakeGraph.ts); the executor is production's.
 *
 * Invariants, checked once the system has settled (queued work done, one pass per group):
 * - at most one group per user, and claims and member rows agree;
 * - no admin action is lost (each accepted change is audited and its effect stands);
 * - switch on → exactly one live subscription per (eligible user, resource), off → none.
 *
 * A fixed seed runs in CI. More: `RACE_SEED=random RACE_RUNS=200 npx jest test/e2e/races.test.ts`
 * (or `RACE_SEED=<n>` to replay a failure; fast-check prints the seed and path of a failing run).
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { clientStateKeysFor, createSecretSource } from '../../shared/adapters/secrets';
import { createStorage, type Storage } from '../../shared/adapters/tables';
import type { Config } from '../../shared/config';
import type { Group, MailResource, Member } from '../../shared/domain/model';
import { AppError } from '../../shared/errors';
import type { RequestContext } from '../../shared/logging';
import { deleteGroup } from '../../shared/operations/groups';
import { addMembers, removeMember } from '../../shared/operations/members';
import { handleReconcileRequest, reconcileGroup } from '../../shared/operations/reconcile';
import { toggleGroupSync } from '../../shared/operations/sync';
import { forceUserSync } from '../../shared/operations/userSync';
import { NOT_STARTED, type ReconcileRequest } from '../../shared/ports';
import { FakeGraph } from '../support/fakeGraph';
import { directoryOf, offlineServices } from '../support/offline';
import { drainQueue } from '../support/reconcile';
import { startCutProxy } from '../support/cutProxy';
import { QueueServiceClient } from '@azure/storage-queue';
import { QUEUES } from '../../shared/functionRegistry';

const SEED = process.env.RACE_SEED === 'random' ? undefined : Number(process.env.RACE_SEED ?? 20_261_203);
const RUNS = Number(process.env.RACE_RUNS ?? 4);
const PARAMS = { numRuns: RUNS, endOnFailure: true, ...(SEED === undefined ? {} : { seed: SEED }) };
const RESOURCES: MailResource[] = ['events', 'contacts'];
const NEVER = Number.MAX_SAFE_INTEGER;
// Real storage under load (the suite runs beside others on two cores): generous, never a timed assertion.
jest.setTimeout(300_000);

let storage: Storage;
let config: Config;
let secrets: ReturnType<typeof createSecretSource>;
let clientStateKeys: ReturnType<typeof clientStateKeysFor>;
let graph: FakeGraph;
/** how far the claims' clock is ahead (moved past the claim grace before the invariants are read) */
let skew = 0;
let reconcileQueue: ReturnType<QueueServiceClient['getQueueClient']>;
let storageOptions: Parameters<typeof createStorage>[1];

beforeAll(async () => {
  const connection = process.env.TEST_STORAGE_CONNECTION as string;
  const tag = randomBytes(4).toString('hex');
  ({ config, secrets, clientStateKeys } = offlineServices(connection, { GRAPH_RESOURCES: RESOURCES.join(','), RECONCILE_MAX_FAILURES: '3' }));
  storageOptions = { tablePrefix: `Race${tag}`, queuePrefix: `race${tag}-`, now: () => Date.now() + skew };
  storage = createStorage({ connectionString: connection }, storageOptions);
  await storage.ensureReady();
  reconcileQueue = QueueServiceClient.fromConnectionString(connection).getQueueClient(`race${tag}-${QUEUES.reconcile}`);
});

afterAll(async () => {
  await reconcileQueue?.deleteIfExists();
});

beforeEach(() => {
  graph = new FakeGraph();
  skew = 0;
});

const mailboxOf = (employeeId: string) => `${employeeId.toLowerCase()}@contoso.test`;
const unique = () => randomBytes(3).toString('hex').toUpperCase();

/** Every employee exists, is active and has a valid email: membership alone decides who syncs. */
const directory = directoryOf(mailboxOf);

/** Order of calls across every scheduled wrapper: which operation read or wrote what, when. */
let sequence = 0;
const trace: Array<{ seq: number; who: string; call: string }> = [];

function scheduled<T extends object>(s: fc.Scheduler | null, who: string, target: T): T {
  return new Proxy(target, {
    get(obj, key) {
      const value = Reflect.get(obj, key, obj) as unknown;
      if (typeof value !== 'function') return value;
      const call = `${String(key)}`;
      const invoke = (...args: unknown[]) => {
        trace.push({ seq: sequence++, who, call });
        return (value as (...a: unknown[]) => Promise<unknown>).apply(obj, args);
      };
      return s ? s.scheduleFunction(invoke) : invoke;
    },
  });
}

const STORES = ['groups', 'members', 'statusSummaries', 'passLeases', 'userState', 'subscriptions', 'audit', 'reconcileQueue'] as const;

/** The operations' view of the world: real stores and the fake provider, each call a scheduling point of `s`. */
function depsFor(s: fc.Scheduler | null, who: string) {
  const wrapped = { ...storage };
  for (const store of STORES) (wrapped as unknown as Record<string, object>)[store] = scheduled(s, `${who}.${store}`, storage[store]);
  return { config, secrets, clientStateKeys, directory, storage: wrapped, mail: scheduled(s, `${who}.mail`, graph) };
}

const ctx = (): RequestContext => ({ requestId: `race-${unique()}`, invocationId: 'race', caller: null, log: () => undefined, now: new Date() });
const options = () => ({ now: () => new Date(), log: () => undefined, deadline: NEVER });

async function newGroup(sync: Group['sync'], members: string[] = []): Promise<string> {
  const at = new Date().toISOString();
  const id = `race-${unique().toLowerCase()}`;
  await storage.groups.create({ id, name: `Race ${id}`, description: '', mailboxAccess: 'office365', sync, syncChangedAt: at, createdAt: at, updatedAt: at, updatedBy: 'test' });
  if (members.length > 0) {
    const rows: Member[] = members.map((employeeId) => ({ groupId: id, employeeId, name: employeeId, email: mailboxOf(employeeId), prerequisite: null, prerequisiteMessage: '', checkedAt: at, addedAt: at, addedBy: 'test' }));
    await storage.members.add(id, rows, { move: false });
  }
  return id;
}

type Outcome = { ok: true; requestId: string; body?: unknown } | { ok: false; requestId: string; status: number; code: string };

/** Runs an admin operation, keeping its domain error (409 busy, 404 gone...) as an outcome: only a server fault fails the test. */
async function admin(op: (c: RequestContext) => Promise<unknown>): Promise<Outcome> {
  const c = ctx();
  try {
    const result = await op(c);
    return { ok: true, requestId: c.requestId, body: result };
  } catch (err) {
    if (err instanceof AppError && err.status < 500) return { ok: false, requestId: c.requestId, status: err.status, code: err.code };
    throw err;
  }
}

/** Runs every operation under the scheduler until all have finished, in the order it picks. */
async function interleave<T>(s: fc.Scheduler, operations: Array<() => Promise<T>>): Promise<T[]> {
  return s.waitFor(Promise.all(operations.map((op) => op())));
}

/**
 * Queued work done (toggles' nudges, release jobs, continuations), then one pass per group and
 * the tenant repair job (orphans of cut runs, seen as older than its 10-minute margin): the
 * level-triggered end state.
 */
async function settle(groups: string[]): Promise<void> {
  const deps = depsFor(null, 'settle');
  const later = { ...options(), now: () => new Date(Date.now() + 11 * 60_000) };
  await handleReconcileRequest(deps, { repairOrphans: true, reason: 'settle', requestId: `settle-${unique()}` }, later);
  for (let round = 0; round < 6; round++) {
    const requests = (await drainQueue(reconcileQueue)) as ReconcileRequest[];
    const passes = round === 0 ? groups.map((groupId): ReconcileRequest => ({ groupId, reason: 'settle', requestId: `settle-${unique()}` })) : [];
    const outside: ReconcileRequest = { outsideGroups: true, reason: 'settle', requestId: `settle-${unique()}` };
    const all = [...requests, ...passes, ...(round === 0 ? [outside] : [])];
    if (all.length === 0) return;
    for (const request of all) await handleReconcileRequest(deps, request, options());
  }
  throw new Error('the queue never emptied');
}

/** At most one group per user; claims and member rows agree (a claim counts once past its grace). */
async function expectMembershipAgrees(users: string[], groups: string[]): Promise<Map<string, string | null>> {
  skew = 61_000;
  try {
    const live = new Map<string, string | null>();
    for (const u of users) {
      const holding: string[] = [];
      for (const g of groups) if (await storage.members.get(g, u)) holding.push(g);
      const claimed = (await storage.members.claimedGroups([u])).get(u) ?? null;
      const groupOf = await storage.members.groupOf(u);
      expect({ u, holding: holding.length <= 1 }).toEqual({ u, holding: true });
      expect({ u, groupOf }).toEqual({ u, groupOf: holding[0] ?? null });
      if (holding[0]) expect({ u, claimed }).toEqual({ u, claimed: holding[0] });
      live.set(u, groupOf);
    }
    return live;
  } finally {
    skew = 0;
  }
}

/** Switch on → exactly one live subscription per (eligible user, resource), held in our table; off → none. */
async function expectSubscriptionsFollowSwitches(users: string[]): Promise<void> {
  for (const u of users) {
    const groupId = await storage.members.groupOf(u);
    const group = groupId ? await storage.groups.get(groupId) : null;
    const state = await storage.userState.get(u);
    const desired = group?.sync === 'enabled' && (state?.userEnabled ?? true) && !state?.suspendedReason;
    const rows = await storage.subscriptions.listForUser(u);
    for (const resource of RESOURCES) {
      const live = graph.live(mailboxOf(u), resource);
      expect({ u, resource, live: live.length }).toEqual({ u, resource, live: desired ? 1 : 0 });
      expect({ u, resource, held: rows.filter((r) => r.resource === resource).map((r) => r.subscriptionId) }).toEqual({ u, resource, held: live });
    }
  }
}

/** Every accepted admin change is in the audit trail under its request id. */
async function expectAudited(outcomes: Outcome[], scopes: string[]): Promise<void> {
  const ids = new Set<string>();
  for (const scope of scopes) for (const entry of (await storage.audit.list(scope, { top: 200 })).items) ids.add(entry.requestId);
  for (const o of outcomes) if (o.ok && (o.body as { changed?: boolean } | undefined)?.changed !== false) expect({ requestId: o.requestId, audited: ids.has(o.requestId) }).toEqual({ requestId: o.requestId, audited: true });
}

describe('races on the real operations and stores', () => {
  it('a force against a pass: the force is never undone by a pass that read the state before it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), async (s) => {
        const u = `F${unique()}`;
        const g = await newGroup('enabled', [u]);
        graph.faults = RESOURCES.map(() => 'mailboxMissing' as const);
        trace.length = 0;
        const [force] = await interleave(s, [
          () => admin((c) => forceUserSync(depsFor(s, 'force'), u, c)),
          () => reconcileGroup(depsFor(s, 'pass'), { groupId: g, reason: 'race', requestId: `pass-${unique()}` }, options()).then(() => null),
        ]);
        expect(force).toMatchObject({ ok: true });
        const state = await storage.userState.get(u);
        expect(state?.forces).toBe(1);
        const forceWrote = trace.find((t) => t.who === 'force.userState' && t.call === 'save')?.seq ?? -1;
        const passRead = trace.find((t) => t.who === 'pass.userState' && t.call === 'get')?.seq ?? NEVER;
        // suspended again only by a pass that read the state after the force wrote it
        if (state?.suspendedReason) expect(passRead).toBeGreaterThan(forceWrote);
        else expect(state?.consecutiveFailures).toBe(0);
        await expectAudited([force as Outcome], [`user|${u}`]);
      }),
      PARAMS,
    );
  });

  it('move against remove against add: never two groups, claims and rows agree, switches hold', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), async (s) => {
        const users = [`M${unique()}`, `M${unique()}`];
        const a = await newGroup('enabled', users);
        const b = await newGroup('enabled');
        const c = await newGroup('disabled');
        const outcomes = await interleave(s, [
          () => admin((x) => addMembers(depsFor(s, 'move'), { groupId: b, body: { employeeIds: users, move: true } }, x)),
          () => admin((x) => addMembers(depsFor(s, 'add'), { groupId: c, body: { employeeIds: users, move: false } }, x)),
          ...users.map((u) => () => admin((x) => removeMember(depsFor(s, 'remove'), { groupId: a, employeeId: u }, x))),
          () => reconcileGroup(depsFor(s, 'passA'), { groupId: a, reason: 'race', requestId: `pass-${unique()}` }, options()).then(() => null),
        ]);
        await settle([a, b, c]);
        await expectMembershipAgrees(users, [a, b, c]);
        await expectSubscriptionsFollowSwitches(users);
        await expectAudited(outcomes.filter((o): o is Outcome => o !== null), [a, b, c].map((g) => `group|${g}`).concat(users.map((u) => `user|${u}`)));
      }),
      PARAMS,
    );
  });

  it('delete against add: nobody is stranded and the deleted group keeps no rows', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), async (s) => {
        const [kept, added, moved] = [`D${unique()}`, `D${unique()}`, `D${unique()}`];
        const doomed = await newGroup('disabled', [kept, moved]);
        const other = await newGroup('enabled');
        const outcomes = await interleave(s, [
          () => admin((x) => deleteGroup(depsFor(s, 'delete'), { groupId: doomed, ifMatch: null }, x)),
          () => admin((x) => addMembers(depsFor(s, 'add'), { groupId: doomed, body: { employeeIds: [added], move: false } }, x)),
          () => admin((x) => addMembers(depsFor(s, 'move'), { groupId: other, body: { employeeIds: [moved], move: true } }, x)),
        ]);
        expect(outcomes[0]).toMatchObject({ ok: true });
        await settle([other]);
        expect((await storage.members.list(doomed, { top: 10 })).items).toEqual([]);
        expect(await storage.groups.getDeleting(doomed)).toBeNull();
        const live = await expectMembershipAgrees([kept, added, moved], [doomed, other]);
        expect(live.get(kept)).toBeNull();
        expect(live.get(added)).toBeNull();
        // nobody stranded: a claim left by the add counts as free
        const free = await storage.members.add(other, [kept, added].map((employeeId) => ({ groupId: other, employeeId, name: '', email: mailboxOf(employeeId), prerequisite: null, prerequisiteMessage: '', checkedAt: '', addedAt: '', addedBy: 'test' })), { move: false });
        expect(free.map((f) => f.outcome)).toEqual(['added', 'added']);
        await expectAudited(outcomes, [`group|${doomed}`, `group|${other}`]);
      }),
      PARAMS,
    );
  });

  it('two passes of one group, with a toggle storm: one live subscription per user and resource when on, none when off', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }), async (s, toggles) => {
        const users = [`T${unique()}`, `T${unique()}`, `T${unique()}`];
        const g = await newGroup('enabled', users);
        const outcomes = await interleave(s, [
          () => reconcileGroup(depsFor(s, 'pass1'), { groupId: g, reason: 'race', requestId: `p1-${unique()}` }, options()).then(() => null),
          () => reconcileGroup(depsFor(s, 'pass2'), { groupId: g, reason: 'race', requestId: `p2-${unique()}` }, options()).then(() => null),
          ...toggles.map((enabled, i) => () => admin((x) => toggleGroupSync(depsFor(s, `toggle${i}`), { groupId: g, enabled, ifMatch: null }, x))),
        ]);
        await settle([g]);
        await expectSubscriptionsFollowSwitches(users);
        const admins = outcomes.filter((o): o is Outcome => o !== null);
        await expectAudited(admins, [`group|${g}`]);
        // no admin action lost: the switch is what the newest accepted change set
        const newest = (await storage.audit.list(`group|${g}`, { top: 1 })).items[0];
        const group = await storage.groups.get(g);
        if (newest) expect(group?.sync).toBe(newest.to);
      }),
      PARAMS,
    );
  });

  it('two passes of one group with nothing else: converged as soon as both finish', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), async (s) => {
        const users = [`P${unique()}`, `P${unique()}`];
        const g = await newGroup('enabled', users);
        await interleave(s, [
          () => reconcileGroup(depsFor(s, 'pass1'), { groupId: g, reason: 'race', requestId: `p1-${unique()}` }, options()),
          () => reconcileGroup(depsFor(s, 'pass2'), { groupId: g, reason: 'race', requestId: `p2-${unique()}` }, options()),
        ]);
        await expectSubscriptionsFollowSwitches(users);
      }),
      PARAMS,
    );
  });
});

/**
 * The invocation dies at its n-th round trip: storage (through a proxy that stops forwarding
 * from the n-th request on, so a cut can fall between any two transactions or claim calls inside
 * a store method) and the provider both count as steps; after the cut nothing of it reaches
 * either again. Resolves 'finished' when the run completed before step n.
 */
async function runCutAt<T>(n: number, run: (deps: ReturnType<typeof depsFor>) => Promise<T>): Promise<{ outcome: 'finished' | 'cut'; steps: number; release(): Promise<void> }> {
  const connection = process.env.TEST_STORAGE_CONNECTION as string;
  const port = (name: string) => Number(new RegExp(`${name}Endpoint=http://[^:]+:(\\d+)`).exec(connection)?.[1]);
  const counter = { calls: 0 };
  const proxy = await startCutProxy({ tablePort: port('Table'), queuePort: port('Queue') }, n, counter);
  const cutStorage = createStorage({ connectionString: proxy.connectionString }, storageOptions);
  const dead = new Promise<never>(() => undefined);
  let providerCut: () => void = () => undefined;
  const cut = Promise.race([proxy.cut, new Promise<void>((resolve) => (providerCut = resolve))]);
  const mail = new Proxy(graph, {
    get(obj, key) {
      const value = Reflect.get(obj, key, obj) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (counter.calls++ < n) return (value as (...a: unknown[]) => Promise<unknown>).apply(obj, args);
        providerCut();
        return dead;
      };
    },
  });
  const running = run({ config, secrets, clientStateKeys, directory, storage: cutStorage, mail });
  running.catch(() => undefined);
  const outcome = await Promise.race([running.then(() => 'finished' as const), cut.then(() => 'cut' as const)]);
  return { outcome, steps: proxy.calls(), release: () => proxy.release() };
}

describe('a run cut at every step and resumed', () => {
  it('a pass whose provider call runs out of time hands its page to a continuation, which finishes it', async () => {
    const users = [`B${unique()}`, `B${unique()}`, `B${unique()}`];
    const g = await newGroup('enabled', users);
    await drainQueue(reconcileQueue);
    // the provider starts only the first 3 writes before the deadline (as apply does with a deadline)
    const real = graph.apply.bind(graph);
    let cut = true;
    graph.apply = async (ops) => {
      if (!cut) return real(ops);
      cut = false;
      const started = await real(ops.slice(0, 3));
      return [...started, ...ops.slice(3).map(() => ({ ok: false as const, failure: 'transient' as const, status: 0, code: NOT_STARTED, message: 'not started' }))];
    };
    const first = await reconcileGroup(depsFor(null, 'pass'), { groupId: g, reason: 'race', requestId: `short-${unique()}` }, options());
    expect(first.complete).toBe(false);
    const [continuation, ...rest] = (await drainQueue(reconcileQueue)) as ReconcileRequest[];
    expect(rest).toEqual([]);
    expect(continuation).toMatchObject({ groupId: g, reason: 'continuation' });
    expect(continuation?.continuationToken).toBeUndefined(); // the same (first) page again
    // nobody was charged for what never started
    for (const u of users) expect((await storage.userState.get(u))?.consecutiveFailures ?? 0).toBe(0);
    const second = await handleReconcileRequest(depsFor(null, 'continuation'), continuation as ReconcileRequest, options());
    expect(second).toMatchObject({ complete: true, users: 3, counts: expect.objectContaining({ active: 3 }) });
    await expectSubscriptionsFollowSwitches(users);
  });

  it('a group pass: redelivered after a cut at any step (inside store methods too), it converges', async () => {
    for (let step = 0; ; step++) {
      graph = new FakeGraph();
      const users = [`C${unique()}`, `C${unique()}`];
      const g = await newGroup('enabled', users);
      const request: ReconcileRequest = { groupId: g, reason: 'race', requestId: `cut-${unique()}` };
      const first = await runCutAt(step, (deps) => handleReconcileRequest(deps, request, options()));
      // the queue redelivers the same message (same request, so the same holder of the group's lease)
      await handleReconcileRequest(depsFor(null, 'redelivery'), request, options());
      await settle([g]);
      await expectSubscriptionsFollowSwitches(users);
      await expectMembershipAgrees(users, [g]);
      await first.release();
      if (first.outcome === 'finished') {
        // every round trip of the whole run was a cut point (a pass of two users takes dozens)
        expect(step).toBeGreaterThan(10);
        break;
      }
      expect(step).toBeLessThan(500);
    }
  });

  it('a group deletion: its release job, cut at any step (between any two claim calls too) and redelivered, frees everyone and removes the group', async () => {
    for (let step = 0; ; step++) {
      const users = [`R${unique()}`, `R${unique()}`, `R${unique()}`];
      const g = await newGroup('disabled', users);
      const outcome = await admin((x) => deleteGroup(depsFor(null, 'delete'), { groupId: g, ifMatch: null }, x));
      expect(outcome).toMatchObject({ ok: true });
      await drainQueue(reconcileQueue);
      const request: ReconcileRequest = { releaseGroupId: g, reason: 'group.delete', requestId: `cut-${unique()}` };
      const first = await runCutAt(step, (deps) => handleReconcileRequest(deps, request, options()));
      // before the redelivery nobody is held by the group being deleted
      for (const u of users) expect(await storage.members.groupOf(u)).toBeNull();
      await handleReconcileRequest(depsFor(null, 'redelivery'), request, options());
      expect(await storage.groups.getDeleting(g)).toBeNull();
      expect((await storage.members.list(g, { top: 10 })).items).toEqual([]);
      expect(await storage.members.claimedGroups(users)).toEqual(new Map(users.map((u) => [u, null])));
      await first.release();
      if (first.outcome === 'finished') {
        // every round trip of the whole run was a cut point (a pass of two users takes dozens)
        expect(step).toBeGreaterThan(10);
        break;
      }
      expect(step).toBeLessThan(500);
    }
  });
});

/**
 * Convergence on the code that ships (issue 9 item 7): random sequences of group toggles,
 * membership changes, personal switches, prerequisite changes, clock jumps and provider faults,
 * run through the production operations and executor over the real stores (Azurite). Then the
 * faults stop, an administrator forces every suspended user, and a bounded number of settling
 * rounds (queued work, one pass per group, the outside-groups scan and the tenant repair job)
 * must leave exactly one live subscription per (enabled, eligible, switched-on user, resource)
 * at the provider, held in our table, and none for anyone else.
 *
 * The provider is the in-memory fake with Graph's semantics (test/support/fakeGraph.ts: 409 on a
 * duplicate, 404 once expired, lost responses that leave an orphan behind, 429 and 403 faults).
 * A fixed seed runs in CI; more: `CONVERGENCE_SEED=random CONVERGENCE_RUNS=100 npx jest test/e2e/convergence.test.ts`.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { clientStateKeysFor, createSecretSource } from '../../shared/adapters/secrets';
import { createStorage, type Storage } from '../../shared/adapters/tables';
import type { Config } from '../../shared/config';
import type { MailResource } from '../../shared/domain/model';
import { AppError } from '../../shared/errors';
import type { RequestContext } from '../../shared/logging';
import { createGroup } from '../../shared/operations/groups';
import { addMembers, removeMember } from '../../shared/operations/members';
import { handleReconcileRequest } from '../../shared/operations/reconcile';
import { toggleGroupSync } from '../../shared/operations/sync';
import { forceUserSync, putUserSync } from '../../shared/operations/userSync';
import type { ReconcileRequest } from '../../shared/ports';
import { FakeGraph, type Fault } from '../support/fakeGraph';
import { directoryOf, offlineServices } from '../support/offline';
import { drainQueue } from '../support/reconcile';
import { QueueServiceClient } from '@azure/storage-queue';
import { QUEUES } from '../../shared/functionRegistry';

const SEED = process.env.CONVERGENCE_SEED === 'random' ? undefined : Number(process.env.CONVERGENCE_SEED ?? 20_261_203);
const RUNS = Number(process.env.CONVERGENCE_RUNS ?? 6);
const RESOURCES: MailResource[] = ['events', 'contacts'];
const USERS = 4;
const GROUPS = 2;
const MINUTE = 60_000;
jest.setTimeout(600_000);

let storage: Storage;
let config: Config;
let secrets: ReturnType<typeof createSecretSource>;
let clientStateKeys: ReturnType<typeof clientStateKeysFor>;
let reconcileQueue: ReturnType<QueueServiceClient['getQueueClient']>;
let clockMs = Date.now();
const now = () => new Date(clockMs);

beforeAll(async () => {
  const connection = process.env.TEST_STORAGE_CONNECTION as string;
  const tag = randomBytes(4).toString('hex');
  ({ config, secrets, clientStateKeys } = offlineServices(connection, { GRAPH_RESOURCES: RESOURCES.join(','), RECONCILE_MAX_FAILURES: '3' }));
  storage = createStorage({ connectionString: connection }, { tablePrefix: `Conv${tag}`, queuePrefix: `conv${tag}-`, now: () => clockMs });
  await storage.ensureReady();
  reconcileQueue = QueueServiceClient.fromConnectionString(connection).getQueueClient(`conv${tag}-${QUEUES.reconcile}`);
});

afterAll(async () => {
  await reconcileQueue?.deleteIfExists();
});

const mailboxOf = (employeeId: string) => `${employeeId.toLowerCase()}@contoso.test`;

/** One world per run: its own users, groups and provider. */
interface World {
  graph: FakeGraph;
  users: string[];
  groups: string[];
  /** users whose Vantagepoint record currently lacks an email (a prerequisite fails) */
  ineligible: Set<string>;
}

const directoryFor = (world: World) => directoryOf((id) => (world.ineligible.has(id) ? '' : mailboxOf(id)));

const depsOf = (world: World) => ({ config, secrets, clientStateKeys, directory: directoryFor(world), storage, mail: world.graph });
const ctx = (): RequestContext => ({ requestId: `conv-${randomBytes(3).toString('hex')}`, invocationId: 'conv', caller: null, log: () => undefined, now: now() });
const options = () => ({ now, log: () => undefined, deadline: Number.MAX_SAFE_INTEGER });

/** An admin operation; its domain refusals (404, 409, 412) are outcomes, only a server fault fails the run. */
async function admin(op: () => Promise<unknown>): Promise<void> {
  try {
    await op();
  } catch (err) {
    if (!(err instanceof AppError && err.status < 500)) throw err;
  }
}

type Event =
  | { kind: 'toggleGroup'; group: number; enabled: boolean }
  | { kind: 'setMembership'; user: number; group: number | null }
  | { kind: 'toggleUser'; user: number; enabled: boolean }
  | { kind: 'setEligible'; user: number; eligible: boolean }
  | { kind: 'advance'; minutes: number }
  | { kind: 'force'; user: number }
  | { kind: 'reconcile'; target: number | 'group0' | 'group1'; faults: Fault[]; namesExisting: boolean };

const user = fc.integer({ min: 0, max: USERS - 1 });
const group = fc.integer({ min: 0, max: GROUPS - 1 });
const fault = fc.constantFrom<Fault>('none', 'none', 'transient', 'throttled', 'lostResponse', 'mailboxMissing', 'forbidden');
const event: fc.Arbitrary<Event> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('toggleGroup' as const), group, enabled: fc.boolean() }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('setMembership' as const), user, group: fc.option(group) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('toggleUser' as const), user, enabled: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('setEligible' as const), user, eligible: fc.boolean() }), weight: 1 },
  // up to past a subscription's lifetime (3 days) and the prerequisite re-check age
  { arbitrary: fc.record({ kind: fc.constant('advance' as const), minutes: fc.integer({ min: 1, max: 6000 }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('force' as const), user }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('reconcile' as const),
      target: fc.oneof(user, fc.constant('group0' as const), fc.constant('group1' as const)),
      faults: fc.array(fault, { minLength: 1, maxLength: 6 }),
      namesExisting: fc.boolean(),
    }),
    weight: 4,
  },
);

async function play(world: World, e: Event): Promise<void> {
  const deps = depsOf(world);
  switch (e.kind) {
    case 'toggleGroup':
      return admin(() => toggleGroupSync(deps, { groupId: world.groups[e.group] as string, enabled: e.enabled, ifMatch: null }, ctx()));
    case 'setMembership': {
      const u = world.users[e.user] as string;
      if (e.group === null) {
        const current = await storage.members.groupOf(u);
        if (current) await admin(() => removeMember(deps, { groupId: current, employeeId: u }, ctx()));
        return;
      }
      return admin(() => addMembers(deps, { groupId: world.groups[e.group as number] as string, body: { employeeIds: [u], move: true } }, ctx()));
    }
    case 'toggleUser':
      return admin(() => putUserSync(deps, { employeeId: world.users[e.user] as string, enabled: e.enabled }, ctx()));
    case 'setEligible':
      if (e.eligible) world.ineligible.delete(world.users[e.user] as string);
      else world.ineligible.add(world.users[e.user] as string);
      return;
    case 'advance':
      clockMs += e.minutes * MINUTE;
      return;
    case 'force':
      return admin(() => forceUserSync(deps, world.users[e.user] as string, ctx()));
    case 'reconcile': {
      world.graph.faults = [...e.faults];
      world.graph.namesExisting = e.namesExisting;
      const request: ReconcileRequest =
        typeof e.target === 'number'
          ? { employeeId: world.users[e.target], reason: 'conv', requestId: ctx().requestId }
          : { groupId: world.groups[e.target === 'group0' ? 0 : 1], reason: 'conv', requestId: ctx().requestId };
      await handleReconcileRequest(deps, request, options());
      world.graph.faults = [];
      return;
    }
  }
}

/**
 * The faults stop; an administrator forces every suspended user; then the level-triggered end state:
 * queued work, one pass per group, the outside-groups scan, and the tenant repair job (with the
 * clock past its 10-minute margin for orphans), in at most a few rounds.
 */
async function settle(world: World): Promise<void> {
  const deps = depsOf(world);
  world.graph.faults = [];
  for (const u of world.users) if ((await storage.userState.get(u))?.suspendedReason) await forceUserSync(deps, u, ctx());
  // past every backoff (capped at an hour), a prerequisite's re-check age and the claims' grace
  clockMs += 2 * 60 * MINUTE;
  await handleReconcileRequest(deps, { repairOrphans: true, reason: 'settle', requestId: ctx().requestId }, options());
  for (let round = 0; round < 6; round++) {
    const queued = ((await drainQueue(reconcileQueue)) as ReconcileRequest[]).filter((r) => r.repairOrphans !== true && r.probeGraph !== true);
    const passes: ReconcileRequest[] =
      round === 0 ? [...world.groups.map((groupId) => ({ groupId, reason: 'settle', requestId: ctx().requestId })), { outsideGroups: true, reason: 'settle', requestId: ctx().requestId }] : [];
    const all = [...queued, ...passes];
    if (all.length === 0) return;
    for (const request of all) await handleReconcileRequest(deps, request, options());
  }
  throw new Error('the queue never emptied');
}

/** Exactly one live subscription per (wanted user, resource), the one our table holds; none for anyone else. */
async function expectConverged(world: World): Promise<void> {
  for (const u of world.users) {
    const groupId = await storage.members.groupOf(u);
    const g = groupId ? await storage.groups.get(groupId) : null;
    const state = await storage.userState.get(u);
    const wanted = g?.sync === 'enabled' && (state?.userEnabled ?? true) && !world.ineligible.has(u);
    expect({ u, suspended: state?.suspendedReason ?? null }).toEqual({ u, suspended: null });
    const rows = await storage.subscriptions.listForUser(u);
    for (const resource of RESOURCES) {
      const live = world.graph.live(mailboxOf(u), resource);
      expect({ u, resource, live: live.length }).toEqual({ u, resource, live: wanted ? 1 : 0 });
      expect({ u, resource, held: rows.filter((r) => r.resource === resource).map((r) => r.subscriptionId) }).toEqual({ u, resource, held: live });
    }
  }
}

async function newWorld(): Promise<World> {
  const tag = randomBytes(3).toString('hex').toUpperCase();
  const world: World = { graph: new FakeGraph(() => clockMs), users: Array.from({ length: USERS }, (_, i) => `C${tag}${i}`), groups: [], ineligible: new Set() };
  for (let i = 0; i < GROUPS; i++) {
    const created = await createGroup(depsOf(world), { id: `conv-${tag.toLowerCase()}-${i}`, name: `Convergence ${tag} ${i}`, mailboxAccess: 'office365' }, ctx());
    world.groups.push(created.id);
  }
  return world;
}

it('after faults stop and suspended users are forced, bounded rounds leave exactly one live subscription per (wanted user, resource) and none else', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 30 }), async (events) => {
      const world = await newWorld();
      for (const e of events) await play(world, e);
      await settle(world);
      await expectConverged(world);
    }),
    { numRuns: RUNS, endOnFailure: true, ...(SEED === undefined ? {} : { seed: SEED }) },
  );
});

it('converges from the worst start: both groups enabled with every member while the provider loses every response', async () => {
  const world = await newWorld();
  const deps = depsOf(world);
  for (const [i, u] of world.users.entries()) await addMembers(deps, { groupId: world.groups[i % GROUPS] as string, body: { employeeIds: [u], move: false } }, ctx());
  for (const g of world.groups) await toggleGroupSync(deps, { groupId: g, enabled: true, ifMatch: null }, ctx());
  world.graph.faults = Array.from({ length: USERS * RESOURCES.length * 3 }, () => 'lostResponse' as const);
  world.graph.namesExisting = false;
  for (const g of world.groups) await handleReconcileRequest(deps, { groupId: g, reason: 'conv', requestId: ctx().requestId }, options());
  // every create happened at the provider, none is in our table: all orphans
  expect(world.users.every((u) => RESOURCES.every((r) => world.graph.live(mailboxOf(u), r).length === 1))).toBe(true);
  await settle(world);
  await expectConverged(world);
});

/**
 * The group pass re-checks member prerequisites against Vantagepoint once they are
 * older than an hour, so fixes made there are picked up without re-adding anyone.
 */
import { startVantagepointEmulator, type VantagepointEmulator } from '../../dev/emulators/vantagepoint/server';
import { createSecretSource } from '../../shared/adapters/secrets';
import { createVantagepointDirectory } from '../../shared/adapters/vantagepoint';
import { PREREQUISITE_MAX_AGE_MS, reconcileGroup } from '../../shared/operations/reconcile';
import { startHarness, type Harness } from '../support/reconcile';

let vantagepoint: VantagepointEmulator;
let h: Harness;

beforeAll(async () => {
  vantagepoint = await startVantagepointEmulator({ port: 0 });
  h = await startHarness({
    settings: {
      VANTAGEPOINT_BASE_URL: vantagepoint.url,
      VANTAGEPOINT_SERVICE_USERNAME: 'connect-service',
      VANTAGEPOINT_SERVICE_PASSWORD: 'connect-service',
      VANTAGEPOINT_CLIENT_SECRET: 'local-dev-secret',
      GRAPH_RESOURCES: 'events',
      GRAPH_WRITE_LIMIT: '2000',
    },
  });
});

afterAll(async () => {
  await h?.stop();
  await vantagepoint?.stop();
});

it('re-evaluates stale prerequisites from Vantagepoint and syncs the members that now pass', async () => {
  // Stored evaluations that Vantagepoint no longer agrees with: E0090 has since got an email,
  // E0218 has since been terminated.
  // E0091's stored email is not the one Vantagepoint now has: its subscription must move.
  const group = await h.addGroup('enabled', [{ employeeId: 'E0090', prerequisite: 'INVALID_EMAIL' }, { employeeId: 'E0218' }, { employeeId: 'E0091' }]);
  const secrets = createSecretSource(h.config, { env: { VANTAGEPOINT_CLIENT_SECRET: 'local-dev-secret', VANTAGEPOINT_SERVICE_PASSWORD: 'connect-service' } });
  const directory = createVantagepointDirectory(h.config, secrets);

  // Fresh evaluations are trusted: nothing is asked of Vantagepoint.
  await reconcileGroup({ ...h.deps, directory }, { groupId: group.id, reason: 'test', requestId: 'fresh' }, h.options());
  expect(vantagepoint.requestCount('/api/employee/E0090')).toBe(0);
  expect(h.liveFor('E0091')).toHaveLength(1);

  h.clock.advance(PREREQUISITE_MAX_AGE_MS + 60_000);
  const pass = await reconcileGroup({ ...h.deps, directory }, { groupId: group.id, reason: 'test', requestId: 'stale' }, h.options());

  const fixed = await h.storage.members.get(group.id, 'E0090');
  const terminated = await h.storage.members.get(group.id, 'E0218');
  expect(fixed).toMatchObject({ prerequisite: null, email: expect.stringMatching(/@contoso\.test$/) });
  expect(terminated).toMatchObject({ prerequisite: 'EMPLOYEE_TERMINATED' });
  expect(await h.storage.members.summary(group.id)).toEqual({ memberCount: 3, notConfigured: { EMPLOYEE_TERMINATED: 1 } });
  expect(pass.counts).toMatchObject({ active: 2, not_configured: 1 });
  const moved = await h.storage.members.get(group.id, 'E0091');
  expect(h.liveFor('E0091')).toHaveLength(0);
  expect(h.graph.subscriptions().filter((s) => s.mailbox === moved?.email)).toHaveLength(1);
  expect((await h.storage.subscriptions.listForUser('E0091')).map((s) => s.mailbox)).toEqual([moved?.email]);
  expect(h.graph.subscriptions().filter((s) => s.mailbox === fixed?.email)).toHaveLength(1);
  // E0218 was stored as eligible, so the first pass subscribed it; now it is not configured, its subscription goes.
  expect(h.graph.subscriptions().filter((s) => s.mailbox === terminated?.email)).toHaveLength(0);
});

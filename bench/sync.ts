/**
 * `npm run bench:sync` — issue 12: from an event's creation at the Graph emulator to its activity in
 * the Vantagepoint emulator, p50/p99 under a burst of 500 events across 50 mailboxes, and Graph
 * reads per event. Target: p99 under 10 s locally.
 *
 * The whole path runs: the emulator notifies the webhook, intake persists the delivery to
 * graph-deliveries, its consumer hands the change on to mail-changes, the data-sync consumer reads
 * the event from Graph and writes the activity (the functions in a development host of their own).
 * Everything shares this machine, so the figures are indicative.
 * Flags: --mailboxes 50  --events 500  --concurrency 50 (event creations in flight)
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { sampleSettingsValues, stackSettings } from '../dev/env';
import { startGraphEmulator } from '../dev/emulators/graph/server';
import { startVantagepointEmulator } from '../dev/emulators/vantagepoint/server';
import { startAzurite } from '../dev/support/azurite';
import { startHostProcess, waitUntilHealthy } from '../dev/support/hostProcess';
import { freePort } from '../dev/support/ports';
import { createStorage } from '../shared/adapters/tables';
import { referenceLine, syncReference } from '../shared/domain/events';
import type { Member } from '../shared/domain/model';
import { mapLimited } from '../shared/util/concurrency';
import { flag, intList, ms, runBenchmark, summarize } from './support';

const TARGET_P99_MS = 10_000;
const TIME_LIMIT_MS = 4 * 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, probe: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

runBenchmark('bench:sync', TIME_LIMIT_MS, async (onStop) => {
  const mailboxes = intList(flag('mailboxes') ?? '50', '--mailboxes')[0] as number;
  const events = intList(flag('events') ?? '500', '--events')[0] as number;
  const concurrency = intList(flag('concurrency') ?? '50', '--concurrency')[0] as number;
  console.log(`bench:sync — ${events} tagged meetings across ${mailboxes} mailboxes, ${concurrency} creations in flight; whole path (webhook → graph-deliveries → mail-changes → data sync → Vantagepoint)`);

  const stops: Array<() => Promise<void>> = [];
  onStop(async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  });
  const azurite = await startAzurite();
  stops.push(() => azurite.stop());
  const vantagepoint = await startVantagepointEmulator({ port: 0 });
  stops.push(() => vantagepoint.stop());
  const graph = await startGraphEmulator({ port: 0, allowHttpNotificationUrls: true });
  stops.push(() => graph.stop());
  const functionsPort = await freePort();
  // The functions run in a process of their own (as on their own machine in Azure): the emulators
  // standing in for Graph and Vantagepoint do not share their event loop.
  const host = startHostProcess({
    ...sampleSettingsValues(),
    ...stackSettings({ storageConnectionString: azurite.connectionString, vantagepointUrl: vantagepoint.url, graphUrl: graph.url, functionsPort }),
    FUNCTIONS_PORT: String(functionsPort),
    // no sweep in the middle of the measurement (the platform's per-function switch)
    'AzureWebJobs.reconcile-timer.Disabled': 'true',
    'AzureWebJobs.orphan-repair-timer.Disabled': 'true',
  });
  stops.push(() => host.stop());
  await waitUntilHealthy(`http://127.0.0.1:${functionsPort}/api`, host);
  const logLines = () => fs.readFileSync(host.logFile, 'utf8').split('\n');
  if (process.env.BENCH_DEBUG) console.log(`host log: ${host.logFile}`);

  // One enabled group of synthetic members (prerequisites passed), then one reconcile pass.
  const storage = createStorage({ connectionString: azurite.connectionString });
  await storage.ensureReady();
  const at = new Date().toISOString();
  const groupId = 'bench-sync';
  await storage.groups.create({ id: groupId, name: 'Benchmark sync', description: '', mailboxAccess: 'office365', sync: 'enabled', syncChangedAt: at, createdAt: at, updatedAt: at, updatedBy: 'bench' });
  const members: Member[] = Array.from({ length: mailboxes }, (_, i) => {
    const employeeId = `B${String(i).padStart(4, '0')}`;
    return { groupId, employeeId, name: employeeId, email: `${employeeId.toLowerCase()}@contoso.test`, prerequisite: null, prerequisiteMessage: '', checkedAt: at, addedAt: at, addedBy: 'bench' };
  });
  await storage.members.add(groupId, members, { move: false });
  await storage.reconcileQueue.request({ groupId, reason: 'bench', requestId: randomUUID() });
  const eventSubs = () => graph.subscriptions().filter((s) => s.resource.endsWith('/events')).length;
  await until('the events subscriptions', () => eventSubs() === mailboxes, 60_000);
  // the first-enable catch-ups (one calendarView/delta round per user) finish before the burst
  await until('the first catch-ups', () => logLines().filter((l) => l.includes('"datasync.catchup"')).length >= mailboxes, 60_000);
  console.log(`${mailboxes} users syncing (subscriptions and first catch-ups done)`);

  // The burst: created at the emulator (which notifies as Graph does), watched in Vantagepoint.
  graph.resetStats();
  const writesBefore = vantagepoint.activities.requests.length;
  const createdAt = new Map<string, number>();
  /** when the emulator's create answered: Graph had delivered the notification and intake had accepted it */
  const deliveredAt = new Map<string, number>();
  const seenAt = new Map<string, number>();
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const now = performance.now();
      for (const activity of vantagepoint.activities.all()) {
        const ref = /\[Connect Sync [0-9A-F]{32}\]/.exec(String(activity.Notes))?.[0];
        if (ref && !seenAt.has(ref)) seenAt.set(ref, now);
      }
      await sleep(20);
    }
  })();
  const start = new Date(Date.now() + 86_400_000);
  start.setUTCMinutes(0, 0, 0);
  const burstStart = performance.now();
  await mapLimited(
    Array.from({ length: events }, (_, i) => i),
    async (i) => {
      const member = members[i % mailboxes] as Member;
      const begins = new Date(start.getTime() + i * 60_000);
      const body = {
        subject: `Bench meeting ${i}`,
        body: { contentType: 'text', content: `Event ${i}` },
        start: { dateTime: begins.toISOString().slice(0, 19), timeZone: 'UTC' },
        end: { dateTime: new Date(begins.getTime() + 1_800_000).toISOString().slice(0, 19), timeZone: 'UTC' },
        categories: ['Vantagepoint'],
      };
      const t0 = performance.now();
      const res = await fetch(`${graph.url}/emulator/mailboxes/${member.email}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const created = (await res.json()) as { id?: string };
      if (res.status !== 201 || !created.id) throw new Error(`creating event ${i} answered ${res.status}`);
      const ref = referenceLine(syncReference(member.employeeId, created.id));
      createdAt.set(ref, t0);
      deliveredAt.set(ref, performance.now());
    },
    concurrency,
  );
  const burstMs = performance.now() - burstStart;
  await until(`${events} activities`, () => [...createdAt.keys()].every((ref) => seenAt.has(ref)), 150_000);
  watching = false;
  await watcher;

  const latencies = [...createdAt].map(([ref, t0]) => (seenAt.get(ref) as number) - t0);
  const s = summarize(latencies);
  const consumer = summarize([...deliveredAt].map(([ref, t1]) => Math.max(0, (seenAt.get(ref) as number) - t1)));
  const stats = graph.stats();
  const activities = vantagepoint.activities.all().length;
  console.log(`burst of ${events} creations took ${ms(burstMs)}`);
  console.log(`creation → activity: p50 ${ms(s.p50)}  p95 ${ms(s.p95)}  p99 ${ms(s.p99)}  max ${ms(s.max)}  (n=${s.n})`);
  console.log(`notification accepted → activity (the consumer's part): p50 ${ms(consumer.p50)}  p99 ${ms(consumer.p99)}  max ${ms(consumer.max)}`);
  console.log(`Graph requests during the burst: ${stats.requests} (${(stats.requests / events).toFixed(2)} per event), throttled ${stats.throttled}, most in flight per mailbox ${stats.maxConcurrentPerMailbox}`);
  console.log(`Vantagepoint writes: ${vantagepoint.activities.requests.length - writesBefore} for ${events} events; activities ${activities} (duplicates: ${activities - events})`);
  console.log(`p99 target < ${TARGET_P99_MS / 1000} s: ${s.p99 < TARGET_P99_MS ? 'met' : 'MISSED'}`);
});

import { createEventReader } from '../../adapters/graph/events';
import { createActivityWriter } from '../../adapters/vantagepoint/activities';
import type { ActivityTypeCheck } from '../../ports';
import { getServices } from '../../services';
import type { DataSyncDeps, Log } from './context';

let deps: Promise<DataSyncDeps> | undefined;

/** Re-checked after this long when Vantagepoint could not answer the type look-up. */
const UNVERIFIABLE_RECHECK_MS = 10 * 60_000;

/**
 * The data sync's adapters, built once per process beside the shared services. At start-up the
 * configured ACTIVITY_TYPE is looked up in Vantagepoint's CFGActivityType code table; an unknown
 * type turns every write into a sync issue naming the setting instead of a stream of 4xx.
 */
export function getDataSyncDeps(log: Log): Promise<DataSyncDeps> {
  deps ??= build(log).catch((err: unknown) => {
    deps = undefined;
    throw err;
  });
  return deps;
}

async function build(log: Log): Promise<DataSyncDeps> {
  const services = await getServices();
  const activities = createActivityWriter(services.config, services.secrets);
  let check: { at: number; result: Promise<ActivityTypeCheck>; settled: ActivityTypeCheck | null } | undefined;
  const activityType = (): Promise<ActivityTypeCheck> => {
    const stale = check?.settled?.known === 'unverifiable' && Date.now() - check.at > UNVERIFIABLE_RECHECK_MS;
    if (!check || stale) {
      const entry: NonNullable<typeof check> = { at: Date.now(), result: Promise.resolve({ known: true }), settled: null };
      entry.result = activities.checkActivityType(services.config.ACTIVITY_TYPE).then((r) => {
        entry.settled = r;
        log('datasync.activity_type', { activityType: services.config.ACTIVITY_TYPE, known: r.known, ...('message' in r ? { message: r.message } : {}) });
        return r;
      });
      check = entry;
    }
    return check.result;
  };
  void activityType(); // start-up check; its outcome is logged
  return {
    config: services.config,
    storage: services.storage,
    events: createEventReader(services.config, services.secrets),
    activities,
    activityType,
  };
}

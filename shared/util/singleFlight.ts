/**
 * Concurrent callers of the same work share one run of it: the first call starts it, calls
 * made while it runs get the same promise, and the first call after it settles (success or
 * failure) starts a new run. One token request for a burst of callers, one Key Vault read, one
 * heartbeat, one table recreation. The arguments of the call that starts a run are the ones used.
 */
export function singleFlight<A extends unknown[], T>(work: (...args: A) => Promise<T>): (...args: A) => Promise<T> {
  let running: Promise<T> | undefined;
  return (...args: A) => {
    running ??= work(...args).finally(() => {
      running = undefined;
    });
    return running;
  };
}

/** singleFlight per key: callers for the same key share a run, different keys run side by side. */
export function singleFlightBy<K, T>(work: (key: K) => Promise<T>): (key: K) => Promise<T> {
  const running = new Map<K, Promise<T>>();
  return (key: K) => {
    let run = running.get(key);
    if (!run) {
      run = work(key).finally(() => running.delete(key));
      running.set(key, run);
    }
    return run;
  };
}

/**
 * Runs `work` once and keeps its result, except after a failure: then the next call tries
 * again (a storage outage at start-up must not poison the process). Concurrent first callers share one run.
 */
export function onceSucceeded<T>(work: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => {
    result ??= work().catch((err: unknown) => {
      result = undefined;
      throw err;
    });
    return result;
  };
}

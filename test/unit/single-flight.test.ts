import { onceSucceeded, singleFlight, singleFlightBy } from '../../shared/util/singleFlight';

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('singleFlight', () => {
  it('shares one run between concurrent callers and starts a new one after it settles', async () => {
    const runs: Array<ReturnType<typeof deferred<number>>> = [];
    const call = singleFlight(() => {
      const d = deferred<number>();
      runs.push(d);
      return d.promise;
    });
    const [a, b] = [call(), call()];
    expect(runs).toHaveLength(1);
    runs[0]?.resolve(1);
    expect(await Promise.all([a, b])).toEqual([1, 1]);
    const c = call();
    expect(runs).toHaveLength(2);
    runs[1]?.reject(new Error('down'));
    await expect(c).rejects.toThrow('down');
    const d = call();
    expect(runs).toHaveLength(3);
    runs[2]?.resolve(3);
    expect(await d).toBe(3);
  });

  it('per key: the same key shares, other keys run beside it', async () => {
    let runs = 0;
    const read = singleFlightBy(async (key: string) => `${key}${++runs}`);
    expect(await Promise.all([read('a'), read('a'), read('b')])).toEqual(['a1', 'a1', 'b2']);
    expect(await read('a')).toBe('a3');
  });
});

describe('onceSucceeded', () => {
  it('keeps a success, and tries again after a failure', async () => {
    let runs = 0;
    const build = onceSucceeded(async () => {
      runs += 1;
      if (runs === 1) throw new Error('storage down');
      return runs;
    });
    await expect(build()).rejects.toThrow('storage down');
    expect(await build()).toBe(2);
    expect(await build()).toBe(2);
    expect(runs).toBe(2);
  });
});

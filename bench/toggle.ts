/**
 * `npm run bench:toggle` — SPEC §5: the p95 of `PUT /api/groups/{id}/sync` at 10,000
 * members stays within 1.5x of its p95 at 10 members.
 *
 * Seeds one group per size straight into Azurite (synthetic members, a fifth of them
 * failing a prerequisite), then toggles each over real HTTP, alternating enable and
 * disable with the emulator's administrator token.
 * Flags: --sizes 10,1000,10000  --warmup 10  --toggles 100
 */
import { adminToken, flag, HTTP_ONLY_NOTE, intList, ms, runBenchmark, seedGroup, startBenchStack, summarize, timed, type LatencySummary } from './support';

const TARGET_RATIO = 1.5;
const TIME_LIMIT_MS = 10 * 60_000;

interface Options {
  sizes: number[];
  warmup: number;
  toggles: number;
}

function options(): Options {
  return {
    sizes: intList(flag('sizes') ?? '10,1000,10000', '--sizes'),
    warmup: intList(flag('warmup') ?? '10', '--warmup')[0] as number,
    toggles: intList(flag('toggles') ?? '100', '--toggles')[0] as number,
  };
}

async function toggleOnce(apiUrl: string, token: string, groupId: string, enabled: boolean): Promise<void> {
  const res = await fetch(`${apiUrl}/groups/${encodeURIComponent(groupId)}/sync`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ enabled }),
  });
  const body = await res.text();
  // A failed toggle would make a fast but meaningless sample.
  if (res.status !== 200) throw new Error(`toggle of ${groupId} answered ${res.status}: ${body.slice(0, 300)}`);
}

async function measure(apiUrl: string, token: string, groupId: string, o: Options): Promise<LatencySummary> {
  const samples: number[] = [];
  for (let i = 0; i < o.warmup + o.toggles; i++) {
    const took = await timed(() => toggleOnce(apiUrl, token, groupId, i % 2 === 0));
    if (i >= o.warmup) samples.push(took);
  }
  return summarize(samples);
}

runBenchmark('bench:toggle', TIME_LIMIT_MS, async (onStop) => {
  const o = options();
  console.log(`bench:toggle — sizes ${o.sizes.join(', ')}; ${o.warmup} warm-up + ${o.toggles} measured toggles per size, sequential, alternating enable/disable`);
  console.log(HTTP_ONLY_NOTE);
  const stack = await startBenchStack();
  onStop(stack.stop);

  // Every group exists before any is measured, so each size sees the same table sizes.
  for (const size of o.sizes) {
    const took = await timed(() => seedGroup(stack.storage, `bench-toggle-${size}`, size));
    console.log(`seeded ${size} members in ${(took / 1000).toFixed(1)} s`);
  }
  const token = await adminToken(stack.vantagepoint.url);

  const results = new Map<number, LatencySummary>();
  for (const size of o.sizes) {
    const summary = await measure(stack.apiUrl, token, `bench-toggle-${size}`, o);
    results.set(size, summary);
    console.log(`members ${String(size).padStart(6)}  p50 ${ms(summary.p50)}  p95 ${ms(summary.p95)}  max ${ms(summary.max)}  (n=${summary.n})`);
  }
  report(o.sizes, results);
});

function report(sizes: number[], results: Map<number, LatencySummary>): void {
  const smallest = Math.min(...sizes);
  const largest = Math.max(...sizes);
  const small = results.get(smallest);
  const large = results.get(largest);
  if (!small || !large || smallest === largest) return;
  const ratio = large.p95 / small.p95;
  const verdict = ratio <= TARGET_RATIO ? 'met' : 'MISSED';
  console.log(`p95(${largest}) / p95(${smallest}) = ${ratio.toFixed(2)} (target ≤ ${TARGET_RATIO}: ${verdict})`);
}

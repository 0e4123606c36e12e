/**
 * Runs the Graph emulator as its own process (npm start, benchmarks).
 * GRAPH_EMULATOR_PORT (default 7073); GRAPH_EMULATOR_LATENCY_MS "min-max" or a single number (default 0).
 * `--allow-http-notification-urls` (or GRAPH_EMULATOR_ALLOW_HTTP=true) is the development flag
 * that accepts http:// notification URLs; without it, as in Graph, only https is accepted.
 */
import { startGraphEmulator, type Faults } from './server';

export function parseLatency(value: string | undefined): Faults['latencyMs'] {
  const text = (value ?? '0').trim();
  const range = /^(\d+)\s*-\s*(\d+)$/.exec(text);
  if (range) return [Number(range[1]), Number(range[2])];
  const fixed = Number(text);
  if (!Number.isFinite(fixed) || fixed < 0) throw new Error(`GRAPH_EMULATOR_LATENCY_MS must be "min-max" or a number of ms, got "${text}"`);
  return [fixed, fixed];
}

export function allowHttpFlag(argv: string[], env: Record<string, string | undefined>): boolean {
  return argv.includes('--allow-http-notification-urls') || env.GRAPH_EMULATOR_ALLOW_HTTP === 'true';
}

async function main(): Promise<void> {
  const port = Number(process.env.GRAPH_EMULATOR_PORT ?? 7073);
  const emulator = await startGraphEmulator({
    port,
    allowHttpNotificationUrls: allowHttpFlag(process.argv.slice(2), process.env),
    faults: { latencyMs: parseLatency(process.env.GRAPH_EMULATOR_LATENCY_MS) },
  });
  console.log(`Graph emulator listening on ${emulator.url}/v1.0 (tokens at ${emulator.url}/{tenant}/oauth2/v2.0/token)`);
  const shutdown = (): void => {
    void emulator.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

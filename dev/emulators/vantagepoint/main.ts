import { startVantagepointEmulator } from './server';

/** `node dist/dev/emulators/vantagepoint/main.js`: the Vantagepoint emulator for local development. */
async function main(): Promise<void> {
  const emulator = await startVantagepointEmulator({ port: Number(process.env.VANTAGEPOINT_EMULATOR_PORT ?? '7072') });
  console.log(`Vantagepoint emulator listening on ${emulator.url} (API under ${emulator.url}/api)`);
  const shutdown = () => {
    emulator.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  console.error('Vantagepoint emulator failed to start:', err);
  process.exit(1);
});

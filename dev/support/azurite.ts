import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort, waitForPort } from './ports';

/** Azurite's well-known development account (public, documented by Microsoft). */
export const DEV_ACCOUNT = 'devstoreaccount1';
export const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteHandle {
  tablePort: number;
  queuePort: number;
  connectionString: string;
  stop(): Promise<void>;
}

export function connectionStringFor(tablePort: number, queuePort: number, host = '127.0.0.1'): string {
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${DEV_ACCOUNT}`,
    `AccountKey=${DEV_KEY}`,
    `TableEndpoint=http://${host}:${tablePort}/${DEV_ACCOUNT}`,
    `QueueEndpoint=http://${host}:${queuePort}/${DEV_ACCOUNT}`,
  ].join(';');
}

/**
 * Starts Azurite (Tables + Queues, in memory, telemetry off) from the project's own
 * node_modules. Ports 0 mean "pick free ones".
 */
export async function startAzurite(options: { tablePort?: number; queuePort?: number; silent?: boolean } = {}): Promise<AzuriteHandle> {
  const tablePort = options.tablePort || (await freePort());
  const queuePort = options.queuePort || (await freePort());
  const bin = path.join(require.resolve('azurite/package.json'), '..', 'dist', 'src', 'azurite.js');
  const args = [
    bin,
    '--inMemoryPersistence',
    '--disableTelemetry',
    '--silent',
    '--skipApiVersionCheck',
    '--tableHost', '127.0.0.1', '--tablePort', String(tablePort),
    '--queueHost', '127.0.0.1', '--queuePort', String(queuePort),
    '--blobHost', '127.0.0.1', '--blobPort', String(await freePort()),
  ];
  const child: ChildProcess = spawn(process.execPath, args, {
    stdio: options.silent === false ? 'inherit' : 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await Promise.all([waitForPort(tablePort), waitForPort(queuePort)]);
  } catch (err) {
    child.kill();
    throw err;
  }
  return {
    tablePort,
    queuePort,
    connectionString: connectionStringFor(tablePort, queuePort),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

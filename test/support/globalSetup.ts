import { startAzurite, type AzuriteHandle } from '../../dev/support/azurite';

declare global {
  var __AZURITE__: AzuriteHandle | undefined;
}

/**
 * One Azurite for the whole run (tables + queues, in memory, free ports).
 * Tests read its connection string from TEST_STORAGE_CONNECTION and isolate
 * themselves by unique table names or unique keys.
 */
export default async function globalSetup(): Promise<void> {
  const azurite = await startAzurite();
  globalThis.__AZURITE__ = azurite;
  process.env.TEST_STORAGE_CONNECTION = azurite.connectionString;
  process.env.TEST_AZURITE_TABLE_PORT = String(azurite.tablePort);
  process.env.TEST_AZURITE_QUEUE_PORT = String(azurite.queuePort);
}

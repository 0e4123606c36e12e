import { TableClient, type TableServiceClientOptions } from '@azure/data-tables';
import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import type { Config } from '../../config';

/** Where storage lives: a connection string (Azurite, or a key), or identity-based service URIs (Azure). */
export type StorageTarget =
  | { connectionString: string }
  | { tableServiceUri: string; queueServiceUri: string; credential: TokenCredential };

export function storageTargetFromConfig(config: Config): StorageTarget {
  if (config.AzureWebJobsStorage) return { connectionString: config.AzureWebJobsStorage };
  const tableServiceUri = config.AzureWebJobsStorage__tableServiceUri;
  const queueServiceUri = config.AzureWebJobsStorage__queueServiceUri;
  if (!tableServiceUri || !queueServiceUri) {
    // config's own refinement already refuses this; kept so the type narrows honestly
    throw new Error('AzureWebJobsStorage or both AzureWebJobsStorage__tableServiceUri and __queueServiceUri must be set');
  }
  const clientId = config.AzureWebJobsStorage__clientId;
  // The Functions host reads the same __clientId setting for its own bindings: one identity for both.
  const credential = clientId ? new ManagedIdentityCredential({ clientId }) : new DefaultAzureCredential();
  return { tableServiceUri, queueServiceUri, credential };
}

/** Azurite and custom endpoints in a connection string are plain http (UseDevelopmentStorage=true is handled by the SDK). */
export function isPlainHttp(connectionString: string): boolean {
  return /(?:^|;)\s*(?:DefaultEndpointsProtocol=http\s*(?:;|$)|\w+Endpoint=http:\/\/)/i.test(connectionString);
}

/**
 * Few, quick retries: callers sit behind HTTP requests that must answer 503 promptly
 * when storage is down, and the queue/timer triggers retry on their own.
 */
const TABLE_OPTIONS: TableServiceClientOptions = {
  retryOptions: { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 2000 },
};

export function tableClient(target: StorageTarget, tableName: string): TableClient {
  if ('connectionString' in target) {
    return TableClient.fromConnectionString(target.connectionString, tableName, {
      ...TABLE_OPTIONS,
      allowInsecureConnection: isPlainHttp(target.connectionString),
    });
  }
  return new TableClient(target.tableServiceUri, tableName, target.credential, TABLE_OPTIONS);
}

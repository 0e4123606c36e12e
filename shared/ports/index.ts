/**
 * The small interfaces through which operations reach the outside world.
 * Adapters implement them against Azure (Table Storage, Storage Queues, Key Vault)
 * and real HTTP APIs (Vantagepoint, Microsoft Graph); locally the same adapters run
 * against Azurite and the project's emulators.
 * One file per outside world; this index keeps `shared/ports` the one import.
 */
export * from './storage';
export * from './queues';
export * from './vantagepoint';
export * from './mailProvider';
export * from './notifications';
export * from './dataSync';

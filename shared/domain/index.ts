export * from './model';
export * from './email';
export * from './prerequisites';
export * from './status';
export * from './backoff';
export * from './planner';
export * from './guard';
export * from './notices';

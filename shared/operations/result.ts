/**
 * What an operation hands back to the HTTP layer: a body, and the status and headers the HTTP
 * layer sends with it.
 */
export interface OperationResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

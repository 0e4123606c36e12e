/**
 * Faults a test (or a person at `POST /emulator/faults`) can inject, each standing for
 * something Microsoft documents Graph doing.
 */
import { z } from 'zod';

export interface Faults {
  /** every Graph operation waits a random time in [min, max] ms */
  latencyMs: [number, number];
  /** share of Graph operations answered with a transient 503 (0..1) */
  errorRate: number;
  /** mailboxes answering 404 MailboxNotEnabledForRESTAPI (besides local parts starting with `missing-`) */
  missingMailboxes: string[];
  /** mailboxes answering 403 ErrorAccessDenied (besides local parts starting with `forbidden-`) */
  forbiddenMailboxes: string[];
  /**
   * `revoked`: the app's application permission or admin consent is gone, so every mailbox call
   * answers 403 Authorization_RequestDenied (concepts/permissions-reference; the error code is
   * listed in "Microsoft Graph error responses"). `granted` undoes it.
   */
  appPermission: 'granted' | 'revoked';
  /**
   * `expired`: the app registration's client secret has expired, so the identity platform
   * refuses token requests with 401 invalid_client AADSTS7000222 (Microsoft Entra
   * "AADSTS error codes"). Tokens already issued keep working until they expire, as they do.
   */
  credentials: 'valid' | 'expired';
  /**
   * How a `$batch` with throttled requests answers (concepts/throttling.md, "Throttling and
   * batching"): `200` (the batch succeeds, inner 429s) or `424` (the batch itself fails with
   * 424 Failed Dependency; `responses[]` still carries each inner 429 with its Retry-After).
   */
  throttledBatch: '200' | '424';
}

export const DEFAULT_FAULTS: Faults = {
  latencyMs: [0, 0],
  errorRate: 0,
  missingMailboxes: [],
  forbiddenMailboxes: [],
  appPermission: 'granted',
  credentials: 'valid',
  throttledBatch: '200',
};

export const faultsBody = z
  .object({
    latencyMs: z.tuple([z.number().min(0), z.number().min(0)]),
    errorRate: z.number().min(0).max(1),
    missingMailboxes: z.array(z.string()),
    forbiddenMailboxes: z.array(z.string()),
    appPermission: z.enum(['granted', 'revoked']),
    credentials: z.enum(['valid', 'expired']),
    throttledBatch: z.enum(['200', '424']),
  })
  .partial()
  .strict();

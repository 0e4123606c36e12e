import type { AccessVerdict } from '../../domain/graphAccess';
import type { Log } from '../../logging';
import type { Services } from '../../services';

/** What every reconcile job reads and writes through. */
export type Deps = Pick<Services, 'storage' | 'config' | 'mail'> & {
  directory?: Services['directory'];
  /** told when the organisation loses or regains Graph access (operations/graphAccess.ts) */
  graphAccessListeners?: Services['graphAccessListeners'];
  /** the keys clientStates are signed with (the webhook verifies them without a read) */
  clientStateKeys: Services['clientStateKeys'];
};

/** Member prerequisites are re-checked against Vantagepoint when older than this (fixes there are picked up). */
export const PREREQUISITE_MAX_AGE_MS = 60 * 60_000;

export interface ReconcileOptions {
  now: () => Date;
  log: Log;
  /** wall-clock deadline (ms since epoch) after which a group pass hands over to a continuation message */
  deadline: number;
  /** the breaker's probe: run even though Graph access is failing, and let a success close the breaker */
  probe?: boolean | undefined;
  /** told what the provider's answers said about Graph access */
  onAccess?: ((verdict: AccessVerdict) => void) | undefined;
}

export function policyOf(config: Services['config']) {
  return {
    lifetimeMinutes: config.SUBSCRIPTION_LIFETIME_MINUTES,
    renewalMarginMinutes: config.SUBSCRIPTION_RENEWAL_MARGIN_MINUTES,
    maxFailures: config.RECONCILE_MAX_FAILURES,
  };
}

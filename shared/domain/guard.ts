/**
 * The mass-removal guard (after Microsoft Entra provisioning's "accidental deletions
 * threshold"): one pass, or one prerequisite refresh, may take at most this many of a
 * group's active members out of synchronization at once. Pure, no I/O.
 */
export interface GuardThreshold {
  /** share of the group's active members, in percent (1-100) */
  percent: number;
  /** the limit never drops below this many people, so small groups are not held for a few leavers */
  minimum: number;
}

export const DEFAULT_GUARD: GuardThreshold = { percent: 20, minimum: 10 };

/** How many people one pass may take out of synchronization in a group of `active` active members. */
export function removalLimit(active: number, threshold: GuardThreshold): number {
  return Math.max(threshold.minimum, Math.floor((Math.max(0, active) * threshold.percent) / 100));
}

/** True when removing `removing` of `active` members at once is more than the threshold allows. */
export function guardTrips(removing: number, active: number, threshold: GuardThreshold): boolean {
  return removing > removalLimit(active, threshold);
}

/**
 * The API's shapes, inferred from the same zod schemas that validate the server's
 * answers (type-only imports: nothing of zod reaches the bundle).
 */
import type { z } from 'zod';
import type * as S from '../../shared/api/schemas';

export type Group = z.output<typeof S.GroupView>;
export type Member = z.output<typeof S.MemberView>;
export type HistoryEntry = z.output<typeof S.HistoryEntry>;
export type StatusCounts = z.output<typeof S.StatusCounts>;
export type SyncStatus = z.output<typeof S.SyncStatus>;
export type ConnectStatus = z.output<typeof S.ConnectStatus>;
export type CredentialHealth = z.output<typeof S.CredentialHealth>;
export type Prerequisite = z.output<typeof S.PrerequisiteResult>;
export type Preflight = z.output<typeof S.Preflight>;
export type ToggleResult = z.output<typeof S.ToggleResult>;
export type AddMembersResult = z.output<typeof S.AddMembersResult>;
export type UserSyncView = z.output<typeof S.UserSyncView>;

export interface Page<T> {
  items: T[];
  continuationToken?: string | null;
}

/** RFC 9457 problem as the API sends it (only title and detail are relied on). */
export interface Problem {
  title: string;
  detail: string;
  status: number;
  code: string;
  requestId?: string;
  errors?: Array<{ field: string; message: string }>;
  prerequisites?: Array<{ code: string; ok: boolean; message: string }>;
}
export type ConnectSettings = z.output<typeof S.ConnectSettings>;
export type ConfirmRemovalsResult = z.output<typeof S.ConfirmRemovalsResult>;
export type GroupHold = NonNullable<Group['hold']>;
export type EmployeeSearchResult = z.output<typeof S.EmployeeSearchResult>;

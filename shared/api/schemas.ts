import { z } from 'zod';
import { isValidEmail } from '../domain/email';
import { MEMBER_PREREQUISITES, SYNC_STATUSES } from '../domain/model';
import { refusedCharacter } from '../domain/names';
import { canonicalEmployeeId } from '../domain/employee';

/**
 * One zod schema per payload: the single source of validation, TypeScript types
 * and the OpenAPI document. `.meta({id})` names the OpenAPI component.
 */

// Table Storage forbids / \ # ? and control characters in keys; ids are also shown in URLs.
export const GroupId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be 1–64 letters, digits, "_", "." or "-", starting with a letter or digit')
  .meta({ id: 'GroupId', description: 'Immutable external id chosen at creation' });

// Vantagepoint keys match case-insensitively: one spelling (upper case) from the edge inwards.
export const EmployeeId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/, 'must be 1–32 letters, digits, "_", "." or "-", starting with a letter or digit')
  .overwrite(canonicalEmployeeId)
  .meta({ id: 'EmployeeId', description: 'Vantagepoint employee key; matched ignoring case (answers use upper case)' });

/**
 * Names and descriptions refuse invisible and direction-changing characters (shared/domain/names.ts),
 * naming the first one found, so nothing that Table Storage refuses reaches it.
 */
const visibleText = (s: string, ctx: z.core.$RefinementCtx<string>) => {
  const found = refusedCharacter(s);
  if (found) ctx.addIssue({ code: 'custom', message: `must not contain ${found.description} (at index ${found.index})`, input: s });
};
const DisplayName = z.string().trim().min(1).max(100).superRefine(visibleText);
const Description = z.string().max(1000).superRefine(visibleText);

export const SyncStatus = z.enum(SYNC_STATUSES).meta({ id: 'SyncStatus' });
export const MailboxAccess = z.enum(['office365', 'google']).meta({ id: 'MailboxAccess' });
export const SyncSwitch = z.enum(['enabled', 'disabled']).meta({ id: 'SyncSwitch' });

const Top = z.coerce.number().int().min(1).max(200).default(50);
const ContinuationToken = z.string().min(1).max(4096).optional();

// ---------------------------------------------------------------- inputs

export const GroupParams = z.object({ groupId: GroupId });
export const MemberParams = z.object({ groupId: GroupId, employeeId: EmployeeId });
export const UserParams = z.object({ employeeId: EmployeeId });

export const CreateGroupBody = z
  .strictObject({
    id: GroupId,
    name: DisplayName,
    description: Description.optional(),
    mailboxAccess: MailboxAccess,
  })
  .meta({ id: 'CreateGroup' });

export const PatchGroupBody = z
  .strictObject({ name: DisplayName.optional(), description: Description.optional() })
  .refine((b) => b.name !== undefined || b.description !== undefined, { message: 'give name or description' })
  .meta({ id: 'PatchGroup' });

export const ListGroupsQuery = z.object({
  filter: z.string().max(100).optional(),
  sync: SyncSwitch.optional(),
  top: Top,
  continuationToken: ContinuationToken,
});

export const ListMembersQuery = z.object({
  status: SyncStatus.optional(),
  top: Top,
  continuationToken: ContinuationToken,
});

export const PageQuery = z.object({ top: Top, continuationToken: ContinuationToken });

export const AddMembersBody = z
  .strictObject({
    employeeIds: z.array(EmployeeId).min(1).max(1000),
    move: z.boolean().default(false),
  })
  .meta({ id: 'AddMembers' });

export const SwitchBody = z.strictObject({ enabled: z.boolean() }).meta({ id: 'Switch' });

/** The Settings tab's notification list holds at most this many addresses. */
export const MAX_NOTIFICATION_EMAILS = 20;

const NotificationEmail = z
  .string()
  .trim()
  .max(254)
  .refine(isValidEmail, 'must be an email address such as someone@contoso.com');

export const MassRemovalGuard = z
  .strictObject({
    percent: z.number().int().min(1).max(100).meta({ description: "share of a group's active members one pass may take out of synchronization" }),
    minimum: z.number().int().min(0).max(100_000).meta({ description: 'the limit never drops below this many people' }),
  })
  .meta({ id: 'MassRemovalGuard', description: 'A pass that would take more than max(minimum, percent % of active members) out of synchronization is held' });

export const PutSettingsBody = z
  .strictObject({
    notificationEmails: z
      .array(NotificationEmail)
      .max(MAX_NOTIFICATION_EMAILS)
      .refine((list) => new Set(list.map((a) => a.toLowerCase())).size === list.length, 'must not name an address twice')
      .optional(),
    massRemovalGuard: MassRemovalGuard.optional(),
  })
  .refine((b) => b.notificationEmails !== undefined || b.massRemovalGuard !== undefined, { message: 'give notificationEmails or massRemovalGuard' })
  .meta({ id: 'PutSettings', description: 'Fields given replace the stored ones; fields left out keep their value' });

// ---------------------------------------------------------------- outputs

export const PrerequisiteResult = z
  .object({
    code: z.string(),
    ok: z.boolean(),
    message: z.string(),
    unknown: z
      .literal(true)
      .optional()
      .meta({ description: 'Present when the prerequisite could not be checked (e.g. Vantagepoint unreachable): ok is false and message names the cause' }),
  })
  .meta({ id: 'PrerequisiteResult' });

export const StatusCounts = z
  .object(Object.fromEntries(SYNC_STATUSES.map((s) => [s, z.number().int()])) as Record<(typeof SYNC_STATUSES)[number], z.ZodNumber>)
  .meta({ id: 'StatusCounts' });

export const GroupView = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    mailboxAccess: MailboxAccess,
    sync: SyncSwitch,
    counts: StatusCounts,
    memberCount: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
    updatedBy: z.string(),
    etag: z.string(),
    hold: z
      .object({
        status: z.literal('held'),
        count: z.number().int().meta({ description: 'members the pass would have taken out of synchronization' }),
        activeMembers: z.number().int(),
        limit: z.number().int().meta({ description: 'the most one pass may take out (massRemovalGuard)' }),
        byReason: z.record(z.string(), z.number().int()),
        cause: z.string(),
        heldAt: z.string(),
        checkedAt: z.string().meta({ description: 'when a pass last saw the mass change' }),
      })
      .nullable()
      .meta({ id: 'GroupHold', description: 'The mass-removal guard stopped this group: nobody is removed until POST .../sync/confirm-removals, or until a later check no longer sees the mass change' }),
  })
  .meta({ id: 'Group' });

export const MemberView = z
  .object({
    employeeId: z.string(),
    name: z.string(),
    email: z.string(),
    status: SyncStatus,
    reason: z.string().nullable(),
    message: z.string(),
    syncIssues: z.number().int().meta({ description: 'open data-sync issues (failures with a reason) of this member' }),
  })
  .meta({ id: 'Member' });

export const HistoryEntry = z
  .object({ at: z.string(), by: z.string(), action: z.string(), from: z.unknown(), to: z.unknown(), requestId: z.string() })
  .meta({ id: 'HistoryEntry' });

const page = <T extends z.ZodType>(item: T, id: string) =>
  z.object({ items: z.array(item), continuationToken: z.string().nullable() }).meta({ id });

export const GroupPage = page(GroupView, 'GroupPage');
export const MemberPage = page(MemberView, 'MemberPage');
export const HistoryPage = page(HistoryEntry, 'HistoryPage');

export const AddMembersResult = z
  .object({
    results: z.array(
      z.object({
        employeeId: z.string(),
        outcome: z.enum(['added', 'already_member', 'moved', 'conflict']),
        otherGroupId: z.string().optional(),
        fromGroupId: z.string().optional(),
        prerequisite: z.enum(MEMBER_PREREQUISITES).nullable(),
        message: z.string(),
      }),
    ),
    added: z.number().int(),
    conflicts: z.number().int(),
    reconciliationRequested: z.boolean(),
  })
  .meta({ id: 'AddMembersResult' });

export const MemberPrerequisiteSummary = z
  .object({
    memberCount: z.number().int(),
    notConfigured: z.record(z.string(), z.number().int()),
    affected: z.array(z.object({ employeeId: z.string(), name: z.string(), reason: z.string(), message: z.string() })),
    affectedContinuationToken: z.string().nullable(),
  })
  .meta({ id: 'MemberPrerequisiteSummary' });

export const GroupForceResult = z
  .object({
    groupId: GroupId,
    reconciliation: z.object({ requested: z.boolean() }),
  })
  .meta({ id: 'GroupForceResult' });

export const ToggleResult = z
  .object({
    group: GroupView,
    changed: z.boolean(),
    members: MemberPrerequisiteSummary,
    reconciliation: z.object({ requested: z.boolean() }),
  })
  .meta({ id: 'ToggleResult' });

export const ConfirmRemovalsResult = z
  .object({
    group: GroupView,
    confirmed: z.object({ count: z.number().int(), heldAt: z.string() }),
    reconciliation: z.object({ requested: z.boolean() }),
  })
  .meta({ id: 'ConfirmRemovalsResult' });

export const Preflight = z
  .object({
    groupId: z.string(),
    canEnable: z.boolean(),
    organisation: z.array(PrerequisiteResult),
    members: MemberPrerequisiteSummary,
  })
  .meta({ id: 'Preflight' });

export const CredentialHealth = z
  .object({
    ok: z.boolean(),
    secretVersion: z.string().nullable(),
    lastTokenAt: z.string().nullable(),
    lastError: z.string().nullable(),
    secretSource: z.enum(['key-vault', 'environment']),
  })
  .meta({ id: 'CredentialHealth' });

/** A health check of the organisation's connection to a provider (not a prerequisite: enabling stays possible). */
export const ProviderCheck = z
  .object({
    code: z.enum(['GRAPH_ACCESS', 'ACTIVITY_TYPE']),
    ok: z.boolean(),
    message: z.string(),
    cause: z.enum(['CREDENTIALS', 'UNAUTHORIZED', 'PERMISSION', 'SERVICE']).nullable().meta({ description: 'why Graph cannot be used; null when it can' }),
    error: z.string().nullable().meta({ description: "Graph's or the identity platform's error code, e.g. Authorization_RequestDenied; for ACTIVITY_TYPE: UNKNOWN_ACTIVITY_TYPE or UNVERIFIABLE" }),
    since: z.string().nullable().meta({ description: 'since when it fails (or, when ok, since when it works again); null when never observed failing' }),
  })
  .meta({ id: 'ProviderCheck' });

export const ConnectStatus = z
  .object({
    organisation: z.array(PrerequisiteResult),
    checks: z.array(ProviderCheck).meta({
      description:
        "Provider health at organisation level. GRAPH_ACCESS fails while Graph refuses the app itself; the reconciler then charges no member, backs off, and resumes within a minute of Graph's recovery. ACTIVITY_TYPE fails when the configured ACTIVITY_TYPE is not in Vantagepoint's CFGActivityType code table (every meeting would become a sync issue), and is not ok with error UNVERIFIABLE while Vantagepoint cannot be asked.",
    }),
    credential: CredentialHealth,
    outboundIpAddresses: z.array(z.string()),
    counts: StatusCounts,
    groups: z.number().int(),
    syncIssues: z
      .object({ issues: z.number().int(), users: z.number().int() })
      .meta({ id: 'SyncIssueCounts', description: 'open data-sync issues (failures with a reason), and how many users have one' }),
    notifications: z
      .object({
        sender: z.string().nullable().meta({ description: 'NOTIFICATION_SENDER; null when notification emails are off' }),
        ok: z.boolean().meta({ description: 'a sender is set and the last send was accepted by Graph' }),
        lastSentAt: z.string().nullable(),
        lastErrorAt: z.string().nullable(),
        lastError: z.string().nullable().meta({ description: "Graph's last refusal of sendMail (e.g. 403 ErrorAccessDenied without Mail.Send)" }),
      })
      .meta({ id: 'NotificationHealth' }),
  })
  .meta({ id: 'ConnectStatus' });

export const UserSyncView = z
  .object({
    employeeId: z.string(),
    groupId: z.string().nullable(),
    userEnabled: z.boolean(),
    status: SyncStatus,
    reason: z.string().nullable(),
    message: z.string(),
    steps: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string() })),
    subscriptions: z.array(
      z.object({ resource: z.string(), id: z.string(), expiresAt: z.string(), createdAt: z.string(), lastRenewedAt: z.string().nullable() }),
    ),
    lastErrors: z.array(z.object({ at: z.string(), resource: z.string(), code: z.string(), message: z.string() })),
    nextRetryAt: z.string().nullable(),
    dataSync: z
      .object({
        created: z.number().int(),
        updated: z.number().int(),
        deleted: z.number().int(),
        skipped: z.number().int(),
        failed: z.number().int(),
        lastItem: z.object({ eventId: z.string(), outcome: z.string(), at: z.string(), requestId: z.string() }).nullable(),
        lastError: z.object({ code: z.string(), message: z.string(), at: z.string() }).nullable(),
        lastCatchUpAt: z.string().nullable(),
        issues: z.array(z.object({ eventId: z.string().nullable(), code: z.string(), message: z.string(), at: z.string() })),
      })
      .optional()
      .meta({ id: 'DataSync', description: 'Outlook meetings → Vantagepoint activities for this user (the "data" step)' }),
  })
  .meta({ id: 'UserSync' });

// ---------------------------------------------------------------- sessions

export const SignInBody = z
  .object({
    username: z.string().trim().min(1).max(256).superRefine(visibleText),
    // never trimmed or echoed: a password is what the person typed
    password: z.string().min(1).max(1024),
  })
  .meta({ id: 'SignIn', description: 'Vantagepoint credentials; checked with Vantagepoint\'s password grant and never stored' });

const SessionUser = z.object({ username: z.string(), employeeId: z.string(), email: z.string() }).meta({ id: 'SessionUser' });

export const SessionCreated = z
  .object({
    token: z.string().meta({ description: 'The service session token: send it as Authorization: Bearer <token>' }),
    expiresAt: z.string(),
    csrfToken: z.string().meta({ description: 'Send as X-CSRF-Token on writes authenticated by the session cookie' }),
    user: SessionUser,
  })
  .meta({ id: 'SessionCreated' });

export const SessionView = z
  .object({
    via: z.enum(['session', 'form-key', 'vantagepoint-token']),
    expiresAt: z.string().nullable(),
    csrfToken: z.string().nullable(),
    user: SessionUser,
  })
  .meta({ id: 'Session' });
export const ConnectSettings = z
  .object({
    notificationEmails: z.array(z.string()),
    massRemovalGuard: MassRemovalGuard,
    updatedAt: z.string().nullable(),
    updatedBy: z.string().nullable(),
    etag: z.string(),
  })
  .meta({ id: 'ConnectSettings' });

export const Health = z.object({ status: z.literal('ok'), time: z.string() }).meta({ id: 'Health' });

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    requestId: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem' });

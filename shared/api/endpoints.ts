import { z } from 'zod';
import type { Endpoint, ResponseSpec } from '../http/endpoint';
import * as S from './schemas';
import { GraphNotificationBatch } from './notifications';

/**
 * The admin HTTP API of SPEC §3. Function files bind these to operations; the
 * OpenAPI document is generated from the same objects.
 */
const problem = (description: string): ResponseSpec => ({ description, schema: S.ProblemSchema });
const adminErrors: Record<number, ResponseSpec> = {
  400: problem('Invalid input; `errors[]` names each bad field'),
  401: problem('No, invalid, expired or signed-out session (or a wrong form key)'),
  403: problem('Caller lacks Connect Administration (ADMIN_ROLE), has no employee email (ADMIN_EMPLOYEE), or a cookie-authenticated write lacks X-CSRF-Token (CSRF_TOKEN)'),
  503: problem('Storage or Vantagepoint unavailable; retry after Retry-After'),
};
const withBody: Record<number, ResponseSpec> = {
  413: problem('Body too large'),
  415: problem('Body is not JSON'),
};

function admin<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(e: Omit<Endpoint<P, Q, B>, 'auth'>): Endpoint<P, Q, B> {
  return { ...e, auth: 'admin', responses: { ...adminErrors, ...(e.body ? withBody : {}), ...e.responses } };
}

export const health = {
  name: 'health',
  method: 'GET',
  route: 'health',
  summary: 'Liveness (no auth)',
  tag: 'Operations',
  auth: 'anonymous',
  responses: { 200: { description: 'Alive', schema: S.Health } },
} satisfies Endpoint;

export const openapi = {
  name: 'openapi',
  method: 'GET',
  route: 'openapi.json',
  summary: 'This OpenAPI 3.1 document',
  tag: 'Operations',
  auth: 'anonymous',
  responses: { 200: { description: 'OpenAPI document' } },
} satisfies Endpoint;

export const createSession = {
  name: 'session-create',
  method: 'POST',
  route: 'session',
  summary:
    'Sign in with Vantagepoint credentials: 201 with the service session token (send as Authorization: Bearer) and a csrfToken; also sets the HttpOnly SameSite=Strict session cookie',
  tag: 'Session',
  auth: 'anonymous',
  body: S.SignInBody,
  responses: {
    201: { description: 'Signed in (Set-Cookie carries the same session)', schema: S.SessionCreated },
    400: problem('Invalid input; `errors[]` names each bad field'),
    401: problem('INVALID_CREDENTIALS: Vantagepoint refused the username or password'),
    403: problem('ADMIN_ROLE or ADMIN_EMPLOYEE'),
    413: problem('Body too large'),
    415: problem('Body is not JSON'),
    429: problem('TOO_MANY_ATTEMPTS for this username or client address; wait Retry-After seconds'),
    503: problem('Vantagepoint, storage or the signing keys unavailable; retry after Retry-After'),
  },
} satisfies Endpoint;

export const getSession = admin({
  name: 'session-get',
  method: 'GET',
  route: 'session',
  summary: 'The current session: who is signed in, until when, and its csrfToken (for a page reloaded while the cookie lives)',
  tag: 'Session',
  responses: { 200: { description: 'The session', schema: S.SessionView } },
});

export const deleteSession = admin({
  name: 'session-delete',
  method: 'DELETE',
  route: 'session',
  summary: 'Sign out: the session token and cookie stop working at once (on every instance)',
  tag: 'Session',
  responses: { 204: { description: 'Signed out; the cookie is cleared' } },
});

export const connectStatus = admin({
  name: 'connect-status',
  method: 'GET',
  route: 'connect/status',
  summary: 'Organisation prerequisites, credential health, outbound IP addresses, status counts',
  tag: 'Connect',
  responses: { 200: { description: 'Status', schema: S.ConnectStatus } },
});

export const getSettings = admin({
  name: 'connect-settings-get',
  method: 'GET',
  route: 'connect/settings',
  summary: 'The Settings tab: emails for notifications and the mass-removal threshold (with ETag)',
  tag: 'Connect',
  responses: { 200: { description: 'The settings (defaults until someone saves them)', schema: S.ConnectSettings } },
});

export const putSettings = admin({
  name: 'connect-settings-put',
  method: 'PUT',
  route: 'connect/settings',
  summary: 'Change the notification list (at most 20 addresses) or the mass-removal threshold; audited',
  tag: 'Connect',
  body: S.PutSettingsBody,
  ifMatch: true,
  responses: {
    200: { description: 'The settings as saved', schema: S.ConnectSettings },
    412: problem('If-Match does not match'),
  },
});

export const tokenRefresh = admin({
  name: 'connect-token-refresh',
  method: 'POST',
  route: 'connect/token/refresh',
  summary: 'Re-read the client secret and re-acquire Vantagepoint tokens now',
  tag: 'Connect',
  responses: { 200: { description: 'Credential health after the refresh', schema: S.CredentialHealth } },
});

export const createGroup = admin({
  name: 'groups-create',
  method: 'POST',
  route: 'groups',
  summary: 'Create a group (starts disabled)',
  tag: 'Groups',
  body: S.CreateGroupBody,
  responses: {
    201: { description: 'Created', schema: S.GroupView },
    409: problem('DUPLICATE_ID or DUPLICATE_NAME; GROUP_DELETING while a deleted group of this id still has members being released (retry shortly)'),
  },
  locationOf: (group: { id: string }) => `/api/groups/${encodeURIComponent(group.id)}`,
});

export const listGroups = admin({
  name: 'groups-list',
  method: 'GET',
  route: 'groups',
  summary: 'The Groups grid: filter on name or id (case-insensitive), sync filter, paging',
  tag: 'Groups',
  query: S.ListGroupsQuery,
  responses: { 200: { description: 'A page of groups', schema: S.GroupPage } },
});

export const getGroup = admin({
  name: 'groups-get',
  method: 'GET',
  route: 'groups/{groupId}',
  summary: 'One group with its status counts and ETag',
  tag: 'Groups',
  params: S.GroupParams,
  responses: { 200: { description: 'The group', schema: S.GroupView }, 404: problem('GROUP_NOT_FOUND') },
});

export const patchGroup = admin({
  name: 'groups-patch',
  method: 'PATCH',
  route: 'groups/{groupId}',
  summary: 'Rename or describe a group',
  tag: 'Groups',
  params: S.GroupParams,
  body: S.PatchGroupBody,
  ifMatch: true,
  responses: {
    200: { description: 'The updated group', schema: S.GroupView },
    404: problem('GROUP_NOT_FOUND'),
    409: problem('DUPLICATE_NAME'),
    412: problem('If-Match does not match'),
  },
});

export const deleteGroup = admin({
  name: 'groups-delete',
  method: 'DELETE',
  route: 'groups/{groupId}',
  summary: 'Delete a group (refused while enabled)',
  tag: 'Groups',
  params: S.GroupParams,
  ifMatch: true,
  responses: {
    204: { description: 'Deleted' },
    404: problem('GROUP_NOT_FOUND'),
    409: problem('GROUP_ENABLED'),
    412: problem('If-Match does not match'),
  },
});

export const listMembers = admin({
  name: 'members-list',
  method: 'GET',
  route: 'groups/{groupId}/members',
  summary: 'Members with status and reason',
  tag: 'Members',
  params: S.GroupParams,
  query: S.ListMembersQuery,
  responses: { 200: { description: 'A page of members', schema: S.MemberPage }, 404: problem('GROUP_NOT_FOUND') },
});

export const addMembers = admin({
  name: 'members-add',
  method: 'POST',
  route: 'groups/{groupId}/members',
  summary: 'Add users (bulk; one result per id; `move` takes them from another group)',
  tag: 'Members',
  params: S.GroupParams,
  body: S.AddMembersBody,
  ifMatch: true,
  responses: {
    200: { description: 'One result per id', schema: S.AddMembersResult },
    404: problem('GROUP_NOT_FOUND'),
    409: problem('MEMBER_IN_OTHER_GROUP (every id conflicted)'),
    412: problem("If-Match (optional) is not the group's current ETag: the group changed since it was read; `resource` names it"),
  },
});

export const searchEmployees = admin({
  name: 'employees-search',
  method: 'GET',
  route: 'employees',
  summary:
    "Find employees to add to a group by id, name or email (case- and accent-insensitive): each with the group they are in and a failing prerequisite. Searches Vantagepoint's employee list, read at most once a minute per instance",
  tag: 'Members',
  query: S.EmployeeSearchQuery,
  responses: { 200: { description: 'The best matches', schema: S.EmployeeSearchResult } },
});

export const removeMember = admin({
  name: 'members-remove',
  method: 'DELETE',
  route: 'groups/{groupId}/members/{employeeId}',
  summary: 'Remove a member (stops their sync)',
  tag: 'Members',
  params: S.MemberParams,
  ifMatch: true,
  responses: {
    204: { description: 'Removed' },
    404: problem('GROUP_NOT_FOUND or MEMBER_NOT_FOUND'),
    412: problem("If-Match (optional) is not the group's current ETag: the group changed since it was read; `resource` names it"),
  },
});

export const toggleGroup = admin({
  name: 'groups-sync-toggle',
  method: 'PUT',
  route: 'groups/{groupId}/sync',
  summary: 'The toggle: enable or disable synchronization for the whole group',
  tag: 'Synchronization',
  params: S.GroupParams,
  body: S.SwitchBody,
  ifMatch: true,
  responses: {
    200: { description: 'The group, the member prerequisite summary, reconciliation requested', schema: S.ToggleResult },
    404: problem('GROUP_NOT_FOUND'),
    409: problem('ORG_PREREQUISITES_NOT_MET, listing each failing prerequisite in `prerequisites`; MAILBOX_ACCESS_NOT_SUPPORTED for a google group'),
    412: problem('If-Match does not match'),
  },
  etagOf: (result: { group: { etag: string } }) => result.group.etag,
});

export const confirmRemovals = admin({
  name: 'groups-sync-confirm-removals',
  method: 'POST',
  route: 'groups/{groupId}/sync/confirm-removals',
  summary: 'Release a group held by the mass-removal guard: the held removals go ahead, as many as the hold counted (audited)',
  tag: 'Synchronization',
  params: S.GroupParams,
  ifMatch: true,
  responses: {
    412: problem("If-Match (optional) is not the group's current ETag: the group changed since it was read; `resource` names it"),
    202: { description: 'Confirmed; the reconciler carries out the removals', schema: S.ConfirmRemovalsResult },
    404: problem('GROUP_NOT_FOUND'),
    409: problem('GROUP_NOT_HELD: the group is not held'),
  },
});

export const preflight = admin({
  name: 'groups-sync-preflight',
  method: 'GET',
  route: 'groups/{groupId}/sync/preflight',
  summary: 'Dry run of enabling: every prerequisite and which members would not be configured',
  tag: 'Synchronization',
  params: S.GroupParams,
  query: S.PageQuery,
  responses: { 200: { description: 'Preflight', schema: S.Preflight }, 404: problem('GROUP_NOT_FOUND') },
});

export const history = admin({
  name: 'groups-history',
  method: 'GET',
  route: 'groups/{groupId}/history',
  summary: 'Audit trail of the group, newest first (still served after the group is deleted)',
  tag: 'Groups',
  params: S.GroupParams,
  query: S.PageQuery,
  responses: { 200: { description: 'History', schema: S.HistoryPage }, 404: problem('GROUP_NOT_FOUND') },
});

export const getUserSync = admin({
  name: 'users-sync-get',
  method: 'GET',
  route: 'users/{employeeId}/sync',
  summary: 'Why is (or is not) this user syncing: every step in evaluation order',
  tag: 'Users',
  params: S.UserParams,
  responses: { 200: { description: 'The why view', schema: S.UserSyncView }, 404: problem('USER_NOT_FOUND') },
});

export const putUserSync = admin({
  name: 'users-sync-put',
  method: 'PUT',
  route: 'users/{employeeId}/sync',
  summary: "Personal switch (a disabled group overrides it). If-Match (optional): the view's `etag`, which names the switch's position",
  tag: 'Users',
  params: S.UserParams,
  body: S.SwitchBody,
  ifMatch: true,
  responses: {
    200: { description: 'The why view after the change', schema: S.UserSyncView },
    404: problem('USER_NOT_FOUND'),
    412: problem('If-Match is not the personal switch as it is now: someone else changed it since it was read; `resource` names the user'),
  },
});

export const forceUserSync = admin({
  name: 'users-sync-force',
  method: 'POST',
  route: 'users/{employeeId}/sync/force',
  summary: 'Clear a suspension and reconcile this user now',
  tag: 'Users',
  params: S.UserParams,
  responses: { 202: { description: 'Reconciliation requested', schema: S.UserSyncView }, 404: problem('USER_NOT_FOUND') },
});

export const forceGroupSync = admin({
  name: 'groups-sync-force',
  method: 'POST',
  route: 'groups/{groupId}/sync/force',
  summary: "Clear every suspension in the group and reconcile it now (the group's pass clears each suspended member before reconciling them)",
  tag: 'Synchronization',
  params: S.GroupParams,
  responses: { 202: { description: 'Reconciliation with suspensions cleared requested', schema: S.GroupForceResult }, 404: problem('GROUP_NOT_FOUND') },
});

export const ALL_ENDPOINTS: Endpoint[] = [
  health,
  openapi,
  createSession,
  getSession,
  deleteSession,
  connectStatus,
  getSettings,
  putSettings,
  tokenRefresh,
  createGroup,
  listGroups,
  getGroup,
  patchGroup,
  deleteGroup,
  listMembers,
  addMembers,
  searchEmployees,
  removeMember,
  toggleGroup,
  confirmRemovals,
  preflight,
  history,
  getUserSync,
  putUserSync,
  forceUserSync,
  forceGroupSync,
] as Endpoint[];

export const graphNotifications = {
  name: 'notifications-graph',
  method: 'POST',
  route: 'notifications/graph',
  summary: 'Microsoft Graph webhook: validation handshake, change and lifecycle notifications',
  tag: 'Webhooks',
  auth: 'anonymous',
  query: z.object({ validationToken: z.string().max(1024).optional() }),
  body: GraphNotificationBatch,
  responses: {
    200: { description: 'Validation handshake: the decoded token as text/plain' },
    202: { description: 'Accepted: the authenticated items persisted to graph-deliveries in one round trip (invalid or unauthenticated items dropped and counted)' },
    400: problem('Malformed notification batch'),
    413: problem('Body too large'),
    415: problem('Body is not JSON'),
    503: problem('The delivery could not be persisted (storage or the clientState keys unavailable); Retry-After; Graph redelivers'),
  },
} satisfies Endpoint;

ALL_ENDPOINTS.push(graphNotifications);

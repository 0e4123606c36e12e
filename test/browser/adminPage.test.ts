import type { Browser, Page } from 'playwright-core';
import { createStorage } from '../../shared/adapters/tables';
import { DESKTOP, NARROW, launchBrowser, newContext, screenshot, seriousViolations } from '../support/browser';
import { api, uniqueId, type Api, type GroupBody } from '../support/http';
import { adminToken, startStack, type Stack } from '../support/stack';

/**
 * The Connect Administration page in a real browser (Debian's chromium, headless) against
 * the local stack: the help topic's procedure (filter, Enable Synchronization on the row,
 * confirm), members settling with their reasons, adding and moving members, a second
 * administrator's stale ETag, and axe-core on every tab. Screenshots go to docs/img/.
 * Employees: E0060–E0073 and E0080–E0084 meet every prerequisite; E0201/E0202 have no user record,
 * E0207/E0209 no valid email; E0222's mailbox is missing and E0227's forbidden at the (emulated) provider.
 */
jest.setTimeout(120_000);

/** Waiting for the reconciler (a condition, not a duration): generous for a busy CI machine. */
const SETTLE_MS = 60_000;

let stack: Stack;
let browser: Browser;
let admin: Api;
let pageUrl: string;

beforeAll(async () => {
  // connect-service (a local administrator with an employee email) is the second administrator.
  // A caller check (and the user list behind member prerequisites) trusted for 1 s: the hold test
  // changes users in Vantagepoint and the next pass must see it.
  [stack, browser] = await Promise.all([startStack({ CALLER_CACHE_SECONDS: '1' }), launchBrowser()]);
  admin = api(stack, await adminToken(stack));
  pageUrl = `${stack.baseUrl}/connect-admin/`;
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function createGroup(prefix: string, members: string[] = []): Promise<GroupBody> {
  const id = uniqueId(prefix);
  const res = await admin.post<GroupBody>('groups', { id, name: `${prefix[0]?.toUpperCase()}${prefix.slice(1)} ${id.slice(-4)}`, mailboxAccess: 'office365' });
  if (res.status !== 201) throw new Error(`creating ${id}: ${res.status} ${res.text}`);
  if (members.length) {
    const added = await admin.post(`groups/${id}/members`, { employeeIds: members });
    if (added.status !== 200) throw new Error(`adding members to ${id}: ${added.status} ${added.text}`);
  }
  return res.body;
}

/**
 * Opens the page and signs in through its form as `username`: the session cookie then carries
 * every call and each change sends the session's CSRF token, as for a person at the page.
 */
async function signedIn(viewport = DESKTOP, username = 'admin') {
  const session = await newContext(browser, viewport);
  const { page } = session;
  await page.goto(pageUrl);
  await page.getByRole('textbox', { name: 'User name' }).fill(username);
  await page.getByLabel('Password').fill(username);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Connect Administration' }).waitFor();
  return session;
}

const row = (page: Page, text: string) => page.locator('tbody tr', { hasText: text });

const tab = (page: Page, name: string) => page.getByRole('navigation', { name: 'Connect Administration' }).getByRole('link', { name, exact: true });

async function filterTo(page: Page, group: GroupBody): Promise<void> {
  await tab(page, 'Groups').click();
  await page.getByRole('searchbox', { name: 'Filter by' }).fill(group.id);
  await row(page, group.id).waitFor();
}

it('asks for a sign-in first', async () => {
  const { context, page, problems } = await newContext(browser);
  await page.goto(pageUrl);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByRole('textbox', { name: 'User name' }).waitFor();
  expect(await seriousViolations(page)).toEqual([]);
  await screenshot(page, 'sign-in');
  expect(problems).toEqual([]);
  await context.close();
});

it('signs in with a Vantagepoint user name and password, keeps the session across a reload, and signs out', async () => {
  const { context, page, problems } = await newContext(browser);
  await page.goto(pageUrl);
  await page.getByRole('textbox', { name: 'User name' }).fill('admin');
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const refusal = page.getByRole('alert');
  await refusal.waitFor();
  expect(await refusal.innerText()).toMatch(/Unauthorized/);

  await page.getByLabel('Password').fill('admin');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Signed in as').waitFor();
  expect(await page.locator('.topbar-name').innerText()).toMatch(/admin/);
  // The page never holds the session token itself: the HttpOnly cookie does.
  expect(await page.evaluate('document.cookie')).toBe('');
  expect(await page.evaluate('JSON.stringify(Object.assign({}, sessionStorage, localStorage))')).toBe('{}');

  // After a reload the cookie still carries the session, and a change carries the CSRF token.
  await page.reload();
  await page.getByText('Signed in as').waitFor();
  const id = uniqueId('cookie');
  await tab(page, 'Groups').click();
  await page.getByRole('button', { name: 'New group' }).click();
  const form = page.getByRole('dialog', { name: 'New group' });
  await form.getByRole('textbox', { name: 'External ID' }).fill(id);
  await form.getByRole('textbox', { name: 'Name' }).fill(`Cookie ${id.slice(-4)}`);
  await form.getByRole('button', { name: 'Create group' }).click();
  await row(page, id).waitFor();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByText('You have signed out.').waitFor();
  await page.reload();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  expect(problems).toEqual([]);
  await context.close();
});

it('takes over a session the embedding form hands over in the URL fragment, without keeping it in the URL', async () => {
  const { context, page } = await newContext(browser);
  await page.goto(`${pageUrl}#token=${encodeURIComponent(await adminToken(stack))}`);
  await page.getByText('Signed in as').waitFor();
  expect(page.url()).not.toContain('token=');
  await context.close();
});

it('serves the page under a strict Content-Security-Policy and shows the dashboard', async () => {
  const { context, page, problems } = await signedIn();
  const res = await page.request.get(pageUrl);
  expect(res.headers()['content-security-policy']).toMatch(/script-src 'self'/);
  await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
  await page.getByRole('heading', { name: 'Organisation prerequisites' }).waitFor();
  await page.getByRole('heading', { name: 'API credential' }).waitFor();
  await page.getByRole('heading', { name: 'Outbound IP addresses' }).waitFor();
  await page.getByRole('heading', { name: 'Microsoft Graph' }).waitFor();
  // the ACTIVITY_TYPE check of connect status (the emulator's code table holds the default, Meeting)
  await page.getByRole('region', { name: 'Data sync to Vantagepoint' }).getByText(/Activity type found: .*Meeting/).waitFor();
  expect(problems).toEqual([]);
  await context.close();
});

it('finds a group with the filter', async () => {
  const wanted = await createGroup('finance');
  const other = await createGroup('marketing');
  const { context, page } = await signedIn();
  await tab(page, 'Groups').click();
  await row(page, other.id).waitFor();
  await page.getByRole('searchbox', { name: 'Filter by' }).fill(wanted.name.toLowerCase());
  await row(page, other.id).waitFor({ state: 'detached' });
  expect(await page.locator('tbody tr').count()).toBe(1);
  await row(page, wanted.id).getByText(`External ID: ${wanted.id}`).waitFor();
  await page.getByRole('searchbox', { name: 'Filter by' }).fill('no-such-group-anywhere');
  await page.getByText('No group matches the filter.').waitFor();
  await context.close();
});

it('enables a group from its row through the confirmation; members settle with their reasons; disables it again', async () => {
  // E0060/E0061 meet every prerequisite; E0201 has no user record, E0207 no valid email.
  const group = await createGroup('sales', ['E0060', 'E0061', 'E0201', 'E0207']);
  const { context, page, problems } = await signedIn();
  await filterTo(page, group);
  await row(page, group.id).getByRole('button', { name: `Enable Synchronization for ${group.name}` }).click();

  const confirm = page.getByRole('dialog', { name: `Enable synchronization for ${group.name}?` });
  await confirm.getByText('2 of 4 members would not be configured').waitFor();
  const reasons = confirm.getByRole('list', { name: 'Reasons' });
  await reasons.getByText('No user record').waitFor();
  await reasons.getByText('No valid email address').waitFor();
  await confirm.getByRole('button', { name: 'Enable Synchronization' }).click();
  await confirm.waitFor({ state: 'detached' });
  await row(page, group.id).getByText('Enabled', { exact: true }).waitFor();

  await row(page, group.id).getByRole('link', { name: group.name }).click();
  await page.getByRole('heading', { name: group.name, level: 1 }).waitFor();
  // Nobody reloads: the page refreshes itself until the members settle.
  await row(page, 'E0060').getByText('Active', { exact: true }).waitFor({ timeout: SETTLE_MS });
  await row(page, 'E0061').getByText('Active', { exact: true }).waitFor({ timeout: SETTLE_MS });
  await row(page, 'E0201').getByText('Not configured', { exact: true }).waitFor();
  await row(page, 'E0201').getByText('No user record', { exact: true }).waitFor();
  await row(page, 'E0207').getByText('No valid email address', { exact: true }).waitFor();
  await page.getByText('Updating member statuses…').waitFor({ state: 'detached', timeout: SETTLE_MS });

  await filterTo(page, group);
  await row(page, group.id).getByRole('button', { name: `Disable Synchronization for ${group.name}` }).click();
  const disable = page.getByRole('dialog', { name: `Disable synchronization for ${group.name}?` });
  await disable.getByText('2 people stop syncing.').waitFor();
  await disable.getByRole('button', { name: 'Disable Synchronization' }).click();
  await disable.waitFor({ state: 'detached' });
  await row(page, group.id).getByText('Disabled', { exact: true }).waitFor();
  expect((await admin.get<GroupBody>(`groups/${group.id}`)).body.sync).toBe('disabled');
  expect(problems).toEqual([]);
  await context.close();
});

it('adds a member by employee id and moves one from another group, saying from which', async () => {
  const from = await createGroup('support', ['E0062']);
  const to = await createGroup('field');
  const { context, page } = await signedIn();
  await page.goto(`${pageUrl}#/groups/${to.id}/users`);
  const ids = page.getByRole('textbox', { name: 'Add by employee ID' });

  await ids.fill('E0063');
  await page.getByRole('button', { name: 'Add members' }).click();
  await page.getByText('1 member added.').waitFor();
  await row(page, 'E0063').waitFor();

  await ids.fill('E0062');
  await page.getByRole('button', { name: 'Add members' }).click();
  await page.getByText(`already in group ${from.id}`).waitFor();
  await page.getByRole('button', { name: `Move to ${to.name}` }).click();
  await page.getByText(`moved from ${from.id}`).waitFor();
  await row(page, 'E0062').waitFor();
  const members = await admin.get<{ items: Array<{ employeeId: string }> }>(`groups/${from.id}/members`);
  expect(members.body.items).toEqual([]);
  await context.close();
});

it('shows a second administrator who changed the group first, and reloads instead of overwriting', async () => {
  const group = await createGroup('legal', ['E0064']);
  const first = await signedIn(DESKTOP, 'admin');
  const second = await signedIn(DESKTOP, 'connect-service');

  // The first administrator opens the confirmation with the group as it was…
  await filterTo(first.page, group);
  await row(first.page, group.id).getByRole('button', { name: `Enable Synchronization for ${group.name}` }).click();
  const confirm = first.page.getByRole('dialog', { name: `Enable synchronization for ${group.name}?` });
  await confirm.getByText('meet the prerequisites').waitFor();

  // …the second renames it meanwhile…
  await filterTo(second.page, group);
  await row(second.page, group.id).getByRole('button', { name: `Edit ${group.name}` }).click();
  const edit = second.page.getByRole('dialog', { name: `Edit ${group.name}` });
  await edit.getByRole('textbox', { name: 'Name' }).fill(`${group.name} (renamed)`);
  await edit.getByRole('button', { name: 'Save' }).click();
  await row(second.page, `${group.name} (renamed)`).waitFor();

  // …so the first one's confirmation is refused, says who and when, and offers a reload.
  await confirm.getByRole('button', { name: 'Enable Synchronization' }).click();
  const notice = confirm.getByRole('alert');
  await notice.getByText('This group was changed by someone else').waitFor();
  await notice.getByText('connect-service').waitFor();
  await notice.getByRole('button', { name: 'Reload' }).click();
  await row(first.page, `${group.name} (renamed)`).waitFor();
  await row(first.page, group.id).getByText('Disabled', { exact: true }).waitFor();
  expect((await admin.get<GroupBody>(`groups/${group.id}`)).body.sync).toBe('disabled');
  await first.context.close();
  await second.context.close();
});

it('creates a group whose External ID is fixed once saved, and refuses to delete it while enabled, saying why', async () => {
  const { context, page } = await signedIn();
  const id = uniqueId('created');
  await tab(page, 'Groups').click();
  await page.getByRole('button', { name: 'New group' }).click();
  const form = page.getByRole('dialog', { name: 'New group' });
  await form.getByRole('textbox', { name: 'External ID' }).fill(id);
  await form.getByRole('textbox', { name: 'Name' }).fill(`Created ${id.slice(-4)}`);
  await form.getByRole('button', { name: 'Create group' }).click();
  await form.waitFor({ state: 'detached' });
  await row(page, id).waitFor();

  await row(page, id).getByRole('button', { name: /^Edit / }).click();
  const edit = page.getByRole('dialog', { name: /^Edit / });
  expect(await edit.getByRole('textbox', { name: 'External ID' }).getAttribute('readonly')).not.toBeNull();
  await edit.getByRole('button', { name: 'Cancel' }).click();

  const created = (await admin.get<GroupBody>(`groups/${id}`)).body;
  await admin.put(`groups/${id}/sync`, { enabled: true }, { headers: { 'if-match': created.etag } });
  await page.getByRole('button', { name: 'Refresh' }).click();
  await row(page, id).getByText('Enabled', { exact: true }).waitFor();
  await row(page, id).getByRole('button', { name: /^Delete / }).click();
  const del = page.getByRole('dialog', { name: /^Delete / });
  await del.getByRole('button', { name: 'Delete group' }).click();
  const refusal = del.getByRole('alert');
  await refusal.getByText('Conflict').waitFor();
  expect(await refusal.innerText()).toMatch(/enabled/i);
  expect((await admin.get(`groups/${id}`)).status).toBe(200);
  await context.close();
});

it('saves the emails for notifications, and shows the problem naming a bad address', async () => {
  const { context, page } = await signedIn();
  await tab(page, 'Settings').click();
  const emails = page.getByRole('textbox', { name: /Email addresses/ });
  await emails.fill('ops@contoso.test\nnot-an-address');
  await page.getByRole('button', { name: 'Save emails' }).click();
  const problem = page.getByRole('alert');
  await problem.getByText('body.notificationEmails.1').waitFor();
  await emails.fill('ops@contoso.test\nit@contoso.test');
  await page.getByRole('button', { name: 'Save emails' }).click();
  await page.getByText('Notification emails saved.').waitFor();
  await page.getByText(/Last changed by admin/).waitFor();
  expect((await admin.get<{ notificationEmails: string[] }>('connect/settings')).body.notificationEmails).toEqual(['ops@contoso.test', 'it@contoso.test']);
  await context.close();
});

/** Presses Tab until the focused element is named `name` (bounded): the keyboard user's way there. */
async function tabTo(page: Page, name: string, limit = 60): Promise<void> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate<string>(
      `(() => { const e = document.activeElement; if (!e) return ''; return (e.getAttribute('aria-label') || (e.labels && e.labels[0] ? e.labels[0].textContent : '') || e.textContent || '').trim(); })()`,
    );
    if (focused === name) return;
  }
  throw new Error(`Tab never reached "${name}"`);
}

it('works with the keyboard alone: Groups tab, filter, Enable Synchronization on the row, confirm', async () => {
  const group = await createGroup('keyboard', ['E0068']);
  const { context, page } = await signedIn();
  await tabTo(page, 'Groups');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Groups', level: 1 }).waitFor();
  await tabTo(page, 'Filter by');
  await page.keyboard.type(group.id);
  await row(page, group.id).waitFor();
  await page.locator('tbody tr').nth(1).waitFor({ state: 'detached' });
  await tabTo(page, `Enable Synchronization for ${group.name}`);
  await page.keyboard.press('Enter');
  const confirm = page.getByRole('dialog', { name: `Enable synchronization for ${group.name}?` });
  await confirm.getByText('meet the prerequisites').waitFor();
  await tabTo(page, 'Enable Synchronization');
  await page.keyboard.press('Enter');
  await confirm.waitFor({ state: 'detached' });
  await row(page, group.id).getByText('Enabled', { exact: true }).waitFor();
  // Escape closes a dialog without changing anything, and focus returns to the row's button.
  await tabTo(page, `Disable Synchronization for ${group.name}`);
  await page.keyboard.press('Enter');
  await page.getByRole('dialog').waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'detached' });
  expect((await admin.get<GroupBody>(`groups/${group.id}`)).body.sync).toBe('enabled');
  await context.close();
});

const memberIds = async (groupId: string) => (await admin.get<{ items: Array<{ employeeId: string }> }>(`groups/${groupId}/members`)).body.items.map((m) => m.employeeId).sort();

it('adds members by search, ignoring case and accents, and moves one from another group, saying from which', async () => {
  const from = await createGroup('archive', ['E0070']); // Umar Costa
  const to = await createGroup('projects');
  const { context, page, problems } = await signedIn();
  await page.goto(`${pageUrl}#/groups/${to.id}/users`);
  const search = page.getByRole('searchbox', { name: 'Search employees' });
  const results = page.getByRole('list', { name: 'Matching employees' });

  await search.fill('TARA cóstá');
  await results.getByRole('button', { name: 'Add Tara Costa' }).click();
  await page.getByText('1 member added.').waitFor();
  await row(page, 'E0069').waitFor();
  await results.locator('li', { hasText: 'E0069' }).getByText('Already in this group').waitFor();

  await search.fill('umar costa');
  const move = results.getByRole('button', { name: `Move from ${from.name}: Umar Costa` });
  await move.waitFor();
  expect(await move.innerText()).toBe(`Move from ${from.name}`);
  expect(await seriousViolations(page)).toEqual([]);
  await screenshot(page, 'group-users-search');
  await move.click();
  await page.getByText(`moved from ${from.id}`).waitFor();
  await row(page, 'E0070').waitFor();
  expect(await memberIds(from.id)).toEqual([]);
  expect(await memberIds(to.id)).toEqual(['E0069', 'E0070']);

  // A prerequisite the directory already tells is shown before adding.
  await search.fill('E0201');
  await results.getByText('No user record: would not be configured').waitFor();
  await search.fill('nobody-has-this-name');
  await page.getByText('No employee matches “nobody-has-this-name”.').waitFor();
  expect(problems).toEqual([]);
  await context.close();
});

it("finds any employee's why view by search on the Users tab", async () => {
  const group = await createGroup('lookup', ['E0074']); // Yusuf Costa
  const { context, page, problems } = await signedIn();
  await tab(page, 'Users').click();
  await page.getByRole('searchbox', { name: 'Search employees' }).fill('yusuf cósta');
  const match = page.getByRole('list', { name: 'Matching employees' }).locator('li', { hasText: 'E0074' });
  await match.getByText(`In group ${group.name}`).waitFor();
  await match.getByRole('link', { name: 'Show Yusuf Costa' }).click();
  await page.getByRole('heading', { name: 'E0074', level: 2 }).waitFor();
  await page.getByRole('heading', { name: 'Steps, in the order they were evaluated' }).waitFor();
  expect(await seriousViolations(page)).toEqual([]);
  expect(problems).toEqual([]);
  await context.close();
});

it("refuses a member change after a second administrator changed the group, says who, and applies it only after a reload", async () => {
  const group = await createGroup('audit', ['E0071']);
  const { context, page, problems } = await signedIn();
  await page.goto(`${pageUrl}#/groups/${group.id}/users`);
  await row(page, 'E0071').waitFor();

  // connect-service renames the group meanwhile (the page still holds the old ETag)…
  const second = api(stack, await adminToken(stack, 'connect-service'));
  expect((await second.patch(`groups/${group.id}`, { name: `${group.name} (renamed)` }, { headers: { 'if-match': group.etag } })).status).toBe(200);

  // …so the first administrator's add is refused: nothing added, who and when shown.
  await page.getByRole('textbox', { name: 'Add by employee ID' }).fill('E0072');
  await page.getByRole('button', { name: 'Add members' }).click();
  const notice = page.getByRole('alert').filter({ hasText: 'This group was changed by someone else' });
  await notice.getByText('connect-service').waitFor();
  expect(await memberIds(group.id)).toEqual(['E0071']);
  await notice.getByRole('button', { name: 'Reload' }).click();
  await page.getByRole('heading', { name: `${group.name} (renamed)`, level: 1 }).waitFor();

  // Remove under the fresh ETag works; the same add again too.
  await row(page, 'E0071').getByRole('button', { name: /^Remove / }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Remove member' }).click();
  await row(page, 'E0071').waitFor({ state: 'detached' });
  await page.getByRole('textbox', { name: 'Add by employee ID' }).fill('E0072');
  await page.getByRole('button', { name: 'Add members' }).click();
  await page.getByText('1 member added.').waitFor();
  expect(await memberIds(group.id)).toEqual(['E0072']);
  expect(problems).toEqual([]);
  await context.close();
});

it("says a personal switch was changed by someone else, reloads it, and does not overwrite it", async () => {
  const group = await createGroup('personal', ['E0073']);
  const { context, page, problems } = await signedIn();
  await page.goto(`${pageUrl}#/users/E0073`);
  await page.getByRole('button', { name: 'Turn personal sync off' }).waitFor();
  // Another administrator turns it off, then on again would look unchanged: off is a real change.
  expect((await admin.put(`users/E0073/sync`, { enabled: false })).status).toBe(200);
  await page.getByRole('button', { name: 'Turn personal sync off' }).click();
  const notice = page.getByRole('alert').filter({ hasText: 'Changed by someone else, reloaded' });
  await notice.waitFor();
  await notice.getByText(/shown as it is now \(off\)/).waitFor();
  await page.getByRole('button', { name: 'Turn personal sync on' }).waitFor();
  expect((await admin.get<{ userEnabled: boolean }>('users/E0073/sync')).body.userEnabled).toBe(false);
  // From the reloaded view the change goes through.
  await page.getByRole('button', { name: 'Turn personal sync on' }).click();
  await page.getByText('Personal switch turned on.').waitFor();
  expect((await admin.get<{ userEnabled: boolean }>('users/E0073/sync')).body.userEnabled).toBe(true);
  const history = await admin.get<{ items: Array<{ action: string; by: string }> }>(`groups/${group.id}/history`);
  expect(history.body.items.filter((e) => e.action === 'user.sync')).toHaveLength(2);
  expect(problems).toEqual([]);
  await context.close();
});

/** Polls the API (a condition, not a duration) until `done` holds for the group, or SETTLE_MS passes. */
async function until(groupId: string, done: (g: GroupBody & { hold: unknown }) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const g = (await admin.get<GroupBody & { hold: unknown }>(`groups/${groupId}`)).body;
    if (done(g)) return;
    if (Date.now() > deadline) throw new Error(`${groupId} never ${what}: ${JSON.stringify(g)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

it('shows a group held by the mass-removal guard, and releases it with Confirm removals', async () => {
  // Five members checked an hour ago; since then Vantagepoint marked three of their users inactive.
  // They are written straight to the store (no pass is nudged), so the enable's pass is the first
  // to look at them, and no other pass can refresh them first.
  const held = ['E0080', 'E0081', 'E0082'];
  const username: Record<string, string> = { E0080: 'farid.dubois.0080', E0081: 'grace.dubois.0081', E0082: 'hiro.dubois.0082' };
  const people: Record<string, string> = { E0080: 'Farid', E0081: 'Grace', E0082: 'Hiro', E0083: 'Ines', E0084: 'Jonas' };
  const group = await createGroup('guarded');
  const storage = createStorage({ connectionString: stack.env.AzureWebJobsStorage ?? '' });
  const hourAgo = new Date(Date.now() - 2 * 3_600_000).toISOString();
  const added = await storage.members.add(
    group.id,
    Object.entries(people).map(([employeeId, first]) => ({
      groupId: group.id,
      employeeId,
      name: `${first} Dubois`,
      email: `${first.toLowerCase()}.dubois@contoso.test`,
      prerequisite: null,
      prerequisiteMessage: '',
      checkedAt: hourAgo,
      addedAt: hourAgo,
      addedBy: 'admin',
    })),
    { move: false },
  );
  expect(added.map((o) => o.outcome)).toEqual(['added', 'added', 'added', 'added', 'added']);
  const settings = await admin.get<{ etag: string; massRemovalGuard: { percent: number; minimum: number } }>('connect/settings');
  expect((await admin.put('connect/settings', { massRemovalGuard: { percent: 20, minimum: 1 } }, { headers: { 'if-match': settings.body.etag } })).status).toBe(200);
  try {
    for (const id of held) stack.vantagepoint.updateUser(username[id] ?? id, { Status: 'I' });
    const enabled = await admin.put<{ group: GroupBody }>(`groups/${group.id}/sync`, { enabled: true }, { headers: { 'if-match': group.etag } });
    expect(enabled.status).toBe(200);
    await until(group.id, (g) => g.hold !== null, 'was held');

    const { context, page, problems } = await signedIn();
    await page.goto(`${pageUrl}#/groups/${group.id}/users`);
    const banner = page.getByRole('status').filter({ hasText: 'Held by the mass-removal guard' });
    await banner.getByText('would take 3 people of 5 active members out of synchronization (the limit is 1). Nobody has been removed.').waitFor();
    await banner.getByRole('list', { name: 'Held removals by reason' }).getByText('User inactive').waitFor();
    await row(page, 'E0080').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'group-hold');

    await banner.getByRole('button', { name: 'Confirm removals' }).click();
    const confirm = page.getByRole('dialog', { name: `Confirm removals for ${group.name}?` });
    await confirm.getByText('3 people stop syncing').waitFor();
    await confirm.getByRole('button', { name: 'Confirm removals' }).click();
    await confirm.waitFor({ state: 'detached' });
    // The page watches by itself until the reconciler has carried the removals out.
    await banner.waitFor({ state: 'detached', timeout: SETTLE_MS });
    for (const id of held) await row(page, id).getByText('User inactive', { exact: true }).waitFor({ timeout: SETTLE_MS });
    await row(page, 'E0083').getByText('Active', { exact: true }).waitFor({ timeout: SETTLE_MS });
    const history = await admin.get<{ items: Array<{ action: string; by: string }> }>(`groups/${group.id}/history`);
    expect(history.body.items.find((e) => e.action === 'group.confirm_removals')?.by).toBe('admin');
    expect(problems).toEqual([]);
    await context.close();
  } finally {
    for (const id of held) stack.vantagepoint.updateUser(username[id] ?? id, { Status: 'A' });
    const now = await admin.get<{ etag: string }>('connect/settings');
    await admin.put('connect/settings', { massRemovalGuard: settings.body.massRemovalGuard }, { headers: { 'if-match': now.body.etag } });
  }
});

it("forces every suspended member of a group at once from Sync Issues, and the history says who did", async () => {
  // E0227's mailbox is forbidden at the (emulated) provider: the enable's pass suspends it.
  const group = await createGroup('rescue', ['E0227']);
  expect((await admin.put(`groups/${group.id}/sync`, { enabled: true }, { headers: { 'if-match': group.etag } })).status).toBe(200);
  const { context, page, problems } = await signedIn();
  await page.goto(`${pageUrl}#/groups/${group.id}/issues`);
  const suspended = page.getByRole('region', { name: 'Suspended' });
  await suspended.getByText('E0227').waitFor({ timeout: SETTLE_MS });
  await suspended.getByRole('button', { name: 'Force sync for every suspended member' }).click();
  await suspended.getByRole('status').getByText('Sync forced for every suspended member: reconciling now.').waitFor();
  const history = await admin.get<{ items: Array<{ action: string; by: string }> }>(`groups/${group.id}/history`);
  expect(history.body.items.find((e) => e.action === 'group.force')?.by).toBe('admin');
  expect(problems).toEqual([]);
  await context.close();
});

describe('every tab', () => {
  let group: GroupBody;

  beforeAll(async () => {
    group = await createGroup('operations', ['E0065', 'E0066', 'E0067', 'E0202', 'E0209', 'E0222']);
    const enabled = await admin.put<{ group: GroupBody }>(`groups/${group.id}/sync`, { enabled: true });
    await admin.patch(`groups/${group.id}`, { description: 'Field operations team' }, { headers: { 'if-match': enabled.body.group.etag } });
  });

  const tabs: Array<{ name: string; hash: () => string; ready: (page: Page) => Promise<void> }> = [
    { name: 'dashboard', hash: () => '#/dashboard', ready: (p) => p.getByRole('heading', { name: 'Users by synchronization status' }).waitFor() },
    { name: 'groups', hash: () => '#/groups', ready: (p) => row(p, group.id).waitFor() },
    { name: 'group-users', hash: () => `#/groups/${group.id}/users`, ready: (p) => row(p, 'E0065').getByText('Active', { exact: true }).waitFor({ timeout: SETTLE_MS }) },
    { name: 'group-sync-issues', hash: () => `#/groups/${group.id}/issues`, ready: async (p) => {
        await p.getByRole('region', { name: 'Not configured' }).getByText('E0209').waitFor();
        await p.getByRole('region', { name: 'Suspended' }).getByText('E0222').waitFor({ timeout: SETTLE_MS });
      } },
    { name: 'group-activity', hash: () => `#/groups/${group.id}/activity`, ready: (p) => p.locator('tbody tr').first().waitFor() },
    { name: 'group-details', hash: () => `#/groups/${group.id}/details`, ready: (p) => p.getByText('Field operations team').waitFor() },
    { name: 'users', hash: () => '#/users/E0209', ready: (p) => p.getByRole('heading', { name: 'Steps, in the order they were evaluated' }).waitFor() },
    { name: 'settings', hash: () => '#/settings', ready: (p) => p.getByRole('heading', { name: 'Emails for Notifications' }).waitFor() },
  ];

  it.each(tabs.map((t) => [t.name, t] as const))('%s has no serious or critical axe violations at 1366×768 and 400 px', async (name, tab) => {
    for (const [viewport, suffix] of [
      [DESKTOP, ''],
      [NARROW, '-narrow'],
    ] as const) {
      const { context, page, problems } = await signedIn(viewport);
      await page.goto(`${pageUrl}${tab.hash()}`);
      await tab.ready(page).catch(async (err: unknown) => {
        // What the page showed instead, for the CI log.
        throw new Error(`${name}${suffix} never got ready: ${String(err)}\n--- page text ---\n${await page.locator('body').innerText()}`);
      });
      expect(await seriousViolations(page)).toEqual([]);
      // Fits: nothing wider than the window (tables become stacked rows on narrow screens).
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(viewport.width);
      if (suffix === '' || name === 'groups' || name === 'group-users') await screenshot(page, `${name}${suffix}`);
      expect(problems).toEqual([]);
      await context.close();
    }
  });
});

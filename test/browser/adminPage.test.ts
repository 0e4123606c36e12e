import type { Browser, Page } from 'playwright-core';
import { DESKTOP, NARROW, launchBrowser, newContext, screenshot, seriousViolations } from '../support/browser';
import { api, uniqueId, type Api, type GroupBody } from '../support/http';
import { adminToken, startStack, type Stack } from '../support/stack';

/**
 * The Connect Administration page in a real browser (Debian's chromium, headless) against
 * the local stack: the help topic's procedure (filter, Enable Synchronization on the row,
 * confirm), members settling with their reasons, adding and moving members, a second
 * administrator's stale ETag, and axe-core on every tab. Screenshots go to docs/img/.
 * Employees: E0060–E0067 meet every prerequisite; E0201/E0202 have no user record, E0207/E0209 no valid
 * email; E0222's mailbox is missing at the (emulated) provider.
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
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
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

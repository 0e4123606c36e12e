/**
 * The notification outbox end to end through the Graph emulator: a notice becomes one
 * email per recipient via POST /users/{sender}/sendMail, a redelivered message sends
 * nothing twice, and Graph refusing shows in the mail health and schedules a retry.
 */
import { QueueServiceClient } from '@azure/storage-queue';
import { GRAPH_EMULATOR_DEFAULTS } from '../../dev/emulators/graph/server';
import { createMailer } from '../../shared/adapters/graph';
import { createSecretSource } from '../../shared/adapters/secrets';
import type { Notice } from '../../shared/domain/notices';
import { QUEUES } from '../../shared/functionRegistry';
import { deliverNotice, MAX_DELIVERY_ATTEMPTS } from '../../shared/operations/outbox';
import type { Mailer, NoticeMessage } from '../../shared/ports';
import { createStorage, type Storage } from '../../shared/adapters/tables';
import { collectingLog, startHarness, uniqueSuffix, type Harness } from '../support/reconcile';

const SENDER = 'connect-notifications@contoso.test';
const CONNECTION = process.env.TEST_STORAGE_CONNECTION as string;
const PREFIX = `out${uniqueSuffix()}`;
let h: Harness;
let mailer: Mailer;
let storage: Storage;

beforeAll(async () => {
  h = await startHarness({ settings: { NOTIFICATION_SENDER: SENDER } });
  mailer = createMailer(h.config, createSecretSource(h.config, { env: { GRAPH_CLIENT_SECRET: GRAPH_EMULATOR_DEFAULTS.clientSecret } })) as Mailer;
  storage = createStorage({ connectionString: CONNECTION }, { tablePrefix: PREFIX, queuePrefix: `${PREFIX}-` });
  await storage.ensureReady();
  await storage.settings.save({ notificationEmails: ['ops@contoso.test', 'it@contoso.test'], massRemovalGuard: { percent: 20, minimum: 10 }, updatedAt: null, updatedBy: null }, null);
});

afterAll(async () => {
  await h?.stop();
  await QueueServiceClient.fromConnectionString(CONNECTION).getQueueClient(`${PREFIX}-${QUEUES.notices}`).deleteIfExists();
});

beforeEach(() => {
  h.graph.setFaults({ forbiddenMailboxes: [], missingMailboxes: [] });
});

const suspension = (): Notice => ({
  cause: 'user_suspended',
  episode: `2026-01-01T00:00:00.000Z-${uniqueSuffix()}`,
  employeeId: 'E0227',
  name: 'Chloe Jensen',
  email: 'forbidden-chloe.jensen@contoso.test',
  groupId: 'sales',
  reason: 'MAILBOX_ACCESS_DENIED',
  detail: 'ErrorAccessDenied',
});

const deps = () => ({ storage, mailer });

async function emulatorMail(): Promise<{ value: Array<{ from: string; to: string[]; subject: string; body: string; at: string }> }> {
  const res = await fetch(`${h.graph.url}/emulator/mail`);
  return (await res.json()) as { value: Array<{ from: string; to: string[]; subject: string; body: string; at: string }> };
}

it('sends one email to the user and one to each listed address through Graph sendMail, and nothing more when the message is redelivered', async () => {
  await fetch(`${h.graph.url}/emulator/mail/reset`, { method: 'POST' });
  const message: NoticeMessage = { notice: suspension(), requestId: 'r1', attempt: 1 };
  const { log } = collectingLog();
  const first = await deliverNotice(deps(), message, { now: h.clock.now, log });
  expect(first).toEqual({ sent: 3, skipped: 0, failed: 0, retryScheduled: false });
  // at-least-once delivery: the same message again, and once more concurrently twice
  const again = await Promise.all([deliverNotice(deps(), message, { now: h.clock.now, log }), deliverNotice(deps(), message, { now: h.clock.now, log })]);
  expect(again.map((o) => o.sent)).toEqual([0, 0]);

  const { value } = await emulatorMail();
  expect(value.map((m) => [m.from, m.to])).toEqual([
    [SENDER, ['forbidden-chloe.jensen@contoso.test']],
    [SENDER, ['ops@contoso.test']],
    [SENDER, ['it@contoso.test']],
  ]);
  for (const mail of value) expect(mail).toEqual({ from: SENDER, to: expect.any(Array), subject: expect.stringMatching(/stopped/), body: expect.stringMatching(/Force|force/), at: expect.any(String) });
  expect(await storage.mailHealth.get()).toMatchObject({ lastSentAt: expect.any(String) });

  // a new episode of the same cause for the same people is a new email
  await deliverNotice(deps(), { ...message, notice: { ...message.notice, episode: `${message.notice.episode}-2` } }, { now: h.clock.now, log });
  expect((await emulatorMail()).value).toHaveLength(6);
  await fetch(`${h.graph.url}/emulator/mail/reset`, { method: 'POST' });
  expect((await emulatorMail()).value).toEqual([]);
});

it('shows Graph refusing sendMail in the mail health, gives the emails back and schedules a retry that then sends them', async () => {
  await fetch(`${h.graph.url}/emulator/mail/reset`, { method: 'POST' });
  h.graph.setFaults({ forbiddenMailboxes: [SENDER] });
  const notice: Notice = { cause: 'vantagepoint_credential_failing', episode: `ep-${uniqueSuffix()}`, detail: 'invalid_client' };
  const queue = QueueServiceClient.fromConnectionString(CONNECTION).getQueueClient(`${PREFIX}-${QUEUES.notices}`);
  await queue.clearMessages();
  const { log, events } = collectingLog();

  const refused = await deliverNotice(deps(), { notice, requestId: 'r2', attempt: 1 }, { now: h.clock.now, log });
  expect(refused).toEqual({ sent: 0, skipped: 0, failed: 2, retryScheduled: true });
  expect(await storage.mailHealth.get()).toMatchObject({ lastError: expect.stringMatching(/403 ErrorAccessDenied/) });
  expect(events.filter((e) => e.event === 'notify.send_failed')).toHaveLength(2);
  // the retry is a delayed message: on the queue, not yet visible
  expect((await queue.getProperties()).approximateMessagesCount).toBe(1);
  expect((await queue.receiveMessages()).receivedMessageItems).toHaveLength(0);

  // the permission is granted; the retry (as the queue would hand it over) sends both, once
  h.graph.setFaults({ forbiddenMailboxes: [] });
  const retried = await deliverNotice(deps(), { notice, requestId: 'r2', attempt: 2 }, { now: h.clock.now, log });
  expect(retried).toMatchObject({ sent: 2, failed: 0, retryScheduled: false });
  expect((await emulatorMail()).value.map((m) => m.to)).toEqual([['ops@contoso.test'], ['it@contoso.test']]);
  await queue.clearMessages();
});

it('gives up after the last attempt, logging it', async () => {
  h.graph.setFaults({ missingMailboxes: [SENDER] });
  const notice: Notice = { cause: 'graph_access_lost', episode: `ep-${uniqueSuffix()}`, detail: 'Authorization_RequestDenied' };
  const { log, events } = collectingLog();
  const outcome = await deliverNotice(deps(), { notice, requestId: 'r3', attempt: MAX_DELIVERY_ATTEMPTS }, { now: h.clock.now, log });
  expect(outcome).toMatchObject({ failed: 2, retryScheduled: false });
  expect(events.map((e) => e.event)).toContain('notify.gave_up');
  expect(await storage.mailHealth.get()).toMatchObject({ lastError: expect.stringMatching(/404 MailboxNotEnabledForRESTAPI/) });
});

describe('the emulator sendMail', () => {
  async function token(): Promise<string> {
    const res = await fetch(`${h.graph.url}/${GRAPH_EMULATOR_DEFAULTS.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: GRAPH_EMULATOR_DEFAULTS.clientId, client_secret: GRAPH_EMULATOR_DEFAULTS.clientSecret, scope: 'https://graph.microsoft.com/.default' }),
    });
    return ((await res.json()) as { access_token: string }).access_token;
  }
  const send = async (body: unknown, auth?: string) =>
    fetch(`${h.graph.url}/v1.0/users/${SENDER}/sendMail`, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) }, body: JSON.stringify(body) });

  it('answers 202 with no body, 401 without a token and 400 ErrorInvalidRecipients without recipients', async () => {
    const auth = await token();
    const ok = await send({ message: { subject: 's', body: { contentType: 'Text', content: 'b' }, toRecipients: [{ emailAddress: { address: 'x@contoso.test' } }] } }, auth);
    expect([ok.status, await ok.text()]).toEqual([202, '']);
    expect((await send({ message: { subject: 's' } })).status).toBe(401);
    const none = await send({ message: { subject: 's', toRecipients: [] } }, auth);
    expect(none.status).toBe(400);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('ErrorInvalidRecipients');
  });

  it("refuses an address Exchange cannot resolve with 400 ErrorInvalidRecipients naming it, and records nothing", async () => {
    await fetch(`${h.graph.url}/emulator/mail/reset`, { method: 'POST' });
    const res = await send({ message: { subject: 's', toRecipients: [{ emailAddress: { address: 'ok@contoso.test' } }, { emailAddress: { address: 'bad' } }] } }, await token());
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toEqual({ code: 'ErrorInvalidRecipients', message: expect.stringContaining('Recipient "bad" isn\'t resolved') });
    expect((await emulatorMail()).value).toEqual([]);
  });
});

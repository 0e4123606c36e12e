/**
 * Issue 12, "at start-up, check that this type exists": with an ACTIVITY_TYPE Vantagepoint's
 * CFGActivityType code table does not hold, the host looks it up when it starts (before any
 * change arrives), logs the outcome, and GET /api/connect/status shows the failing check naming
 * the setting, so an operator sees it without reading logs.
 */
import fs from 'node:fs';
import { api } from '../support/http';
import { eventually } from '../support/reconcile';
import { adminToken, startStack, type Stack } from '../support/stack';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ ACTIVITY_TYPE: 'Calendar Thing' });
});

afterAll(async () => {
  await stack?.stop();
});

it('is looked up when the host starts, and an unknown type shows in connect status', async () => {
  const line = await eventually('the start-up look-up is logged', async () =>
    fs
      .readFileSync(stack.logFile, 'utf8')
      .split('\n')
      .find((l) => l.includes('"datasync.activity_type"')),
  );
  expect(line).toContain('"phase":"start-up"');
  expect(line).toContain('"known":false');

  const admin = api(stack, await adminToken(stack));
  const res = await admin.get<{ checks: Array<{ code: string; ok: boolean; error: string | null; message: string }> }>('connect/status');
  expect(res.status).toBe(200);
  expect(res.body.checks.find((c) => c.code === 'ACTIVITY_TYPE')).toMatchObject({ ok: false, error: 'UNKNOWN_ACTIVITY_TYPE', message: expect.stringContaining('ACTIVITY_TYPE') });
});

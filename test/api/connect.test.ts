/**
 * GET /api/connect/status and POST /api/connect/token/refresh over HTTP: organisation
 * prerequisites, credential health and recovery after "Generate new secret" in Vantagepoint.
 */
import { withAdminStack, type Api } from '../support/http';
import type { Stack } from '../support/stack';

interface Prerequisite {
  code: string;
  ok: boolean;
  message: string;
}
interface Credential {
  ok: boolean;
  secretVersion: string | null;
  lastTokenAt: string | null;
  lastError: string | null;
  secretSource: string;
}
interface ConnectStatus {
  organisation: Prerequisite[];
  credential: Credential;
  outboundIpAddresses: string[];
  counts: Record<string, number>;
  groups: number;
}

let stack: Stack;
let admin: Api;

withAdminStack((started, client) => {
  stack = started;
  admin = client;
});

it('reports every organisation prerequisite in order, the credential health and the outbound addresses', async () => {
  const res = await admin.get<ConnectStatus>('connect/status');
  expect(res.status).toBe(200);
  expect(res.body.organisation.map((p) => [p.code, p.ok])).toEqual([
    ['PUBLIC_URL', true],
    ['WINDOWS_AUTH', true],
    ['API_CLIENT', true],
    ['IP_ALLOWLIST', true],
  ]);
  expect(res.body.organisation.find((p) => p.code === 'IP_ALLOWLIST')?.message).toContain('127.0.0.1');
  expect(res.body.credential).toMatchObject({ ok: true, secretSource: 'environment', lastError: null, secretVersion: expect.stringMatching(/\S/) });
  expect(res.body.outboundIpAddresses).toEqual(['127.0.0.1']);
  expect(Object.keys(res.body.counts).sort()).toEqual(['active', 'disabled', 'not_configured', 'pending', 'suspended', 'with_issues']);
});

it('shows a secret Vantagepoint no longer accepts, and recovers on refresh once it is accepted again', async () => {
  const before = (await admin.get<ConnectStatus>('connect/status')).body.credential;

  // "Generate new secret" in Vantagepoint: the service still holds the old one.
  // (The admin's own caller check is cached, so the admin stays recognised meanwhile.)
  stack.vantagepoint.rotateSecret('a-secret-the-service-does-not-know');
  const broken = await admin.get<ConnectStatus>('connect/status');
  expect(broken.body.organisation.find((p) => p.code === 'API_CLIENT')).toMatchObject({ ok: false });
  const failedRefresh = await admin.post<Credential>('connect/token/refresh');
  expect(failedRefresh.status).toBe(200);
  expect(failedRefresh.body).toMatchObject({ ok: false, lastError: expect.stringMatching(/\S/) });

  // The secret the service reads is the one Vantagepoint accepts again: a refresh restores it.
  stack.vantagepoint.rotateSecret('local-dev-secret');
  const refreshed = await admin.post<Credential>('connect/token/refresh');
  expect(refreshed.body).toMatchObject({ ok: true, lastError: null, secretVersion: before.secretVersion });
  expect(Date.parse(refreshed.body.lastTokenAt ?? '')).toBeGreaterThan(Date.parse(before.lastTokenAt ?? ''));
  const healthy = await admin.get<ConnectStatus>('connect/status');
  expect(healthy.body.organisation.every((p) => p.ok)).toBe(true);
});

it('reports Graph access and the data sync activity type as organisation-level checks', async () => {
  const res = await admin.get<{ checks: Array<{ code: string; ok: boolean; error: string | null; message: string }> }>('connect/status');
  expect(res.body.checks.map((c) => [c.code, c.ok])).toEqual([
    ['GRAPH_ACCESS', true],
    ['ACTIVITY_TYPE', true],
  ]);
  expect(res.body.checks[1]?.message).toContain(stack.env.ACTIVITY_TYPE ?? 'Meeting');
});

import '../shared/startup';
import * as api from '../shared/api/endpoints';
import { clearedSessionCookie, sessionCookie } from '../shared/http/cookies';
import { serveResponse } from '../shared/http/serve';
import { signIn, signOut } from '../shared/operations/session';

const NO_STORE = { 'cache-control': 'no-store' };

serveResponse(api.createSession, async ({ body }, ctx, services) => {
  const { session, user } = await signIn(services, body, ctx);
  return {
    status: 201,
    body: { token: session.token, expiresAt: session.expiresAt, csrfToken: session.csrfToken, user: { username: user.username, employeeId: user.employeeId, email: user.email } },
    headers: { ...NO_STORE, 'set-cookie': sessionCookie(services.config, session.token, session.expiresAt) },
  };
});

serveResponse(api.getSession, async (_input, ctx) => {
  const caller = ctx.caller;
  if (!caller) throw new Error('an admin endpoint always has a caller');
  return {
    status: 200,
    body: {
      via: caller.via,
      expiresAt: caller.session?.expiresAt ?? null,
      csrfToken: caller.session?.csrfToken ?? null,
      user: { username: caller.username, employeeId: caller.employeeId, email: caller.email },
    },
    headers: NO_STORE,
  };
});

serveResponse(api.deleteSession, async (_input, ctx, services) => {
  await signOut(services, ctx.caller, ctx);
  return { status: 204, headers: { ...NO_STORE, 'set-cookie': clearedSessionCookie(services.config) } };
});

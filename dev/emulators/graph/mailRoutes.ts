/**
 * `POST /users/{sender}/sendMail` (api-reference/v1.0/api/user-sendmail.md) as a route module:
 * the mailbox rules, throttling and faults of every other mailbox call apply to the sender
 * (state.guarded); what was sent is kept by mail.ts.
 */
import { mailControlRoutes, sendMailSender } from './mail';
import type { EmulatorContext, GraphRouteModule } from './modules';

export const sendMailModule: GraphRouteModule = {
  name: 'sendMail',
  handle(ctx, call) {
    const sender = sendMailSender(call.method, call.path);
    if (!sender) return null;
    // guarded() has already applied the sender's mailbox rules, hence no second fault check here.
    return ctx.state.guarded(call.caller, sender, false, () => ctx.state.mail.send(sender, call.body, ctx.state.now(), () => null));
  },
  control: mailControlRoutes((ctx: EmulatorContext) => ctx.state.mail),
};

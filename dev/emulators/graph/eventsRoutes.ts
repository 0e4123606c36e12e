/**
 * Mailbox calendars (events.ts: `GET /users/{m}/events/{id}`, `GET /users/{m}/calendarView/delta`,
 * and the `/emulator/mailboxes/{m}/events` control routes) as a route module. Their Graph calls
 * pass the emulator's guard like every other mailbox call, and a change made through the control
 * routes notifies the mailbox's events subscriptions through the emulator's delivery (deadline
 * and slow/drop policy included).
 */
import { MailboxCalendars } from './events';
import type { EmulatorContext, GraphRouteModule } from './modules';
import type { GraphEmulatorState } from './state';

const calendarsByState = new WeakMap<GraphEmulatorState, MailboxCalendars>();

/** The emulator's calendars (one per emulator). */
export function calendarsOf(ctx: EmulatorContext): MailboxCalendars {
  let calendars = calendarsByState.get(ctx.state);
  if (!calendars) {
    calendars = new MailboxCalendars({
      now: () => ctx.state.now(),
      guarded: (caller, mailbox, write, action) => ctx.state.guarded(caller, mailbox, write, action),
      notifyMailbox: (mailbox, changeType, itemId) => ctx.delivery.notifyMailbox(mailbox, changeType, itemId),
    });
    calendarsByState.set(ctx.state, calendars);
  }
  return calendars;
}

export const eventsModule: GraphRouteModule = {
  name: 'events',
  handle: (ctx, call) => calendarsOf(ctx).graph(call.caller, call.method, call.path, call.headers.prefer, ctx.baseUrl()),
  controlFallback: (ctx, method, pathname, body) => calendarsOf(ctx).control(method, pathname, body),
};

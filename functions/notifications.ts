import '../shared/startup';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import * as api from '../shared/api/endpoints';
import { GraphNotificationBatch, MAX_NOTIFICATION_BODY_BYTES, MAX_VALIDATION_TOKEN_LENGTH } from '../shared/api/notifications';
import { ValidationError, type FieldError } from '../shared/errors';
import { defineHttp } from '../shared/functionRegistry';
import { describe, makeLog, readJsonBody, toFieldErrors } from '../shared/http/endpoint';
import { problemFromError } from '../shared/http/problem';
import { acceptNotifications } from '../shared/operations/notifications';
import { getServices } from '../shared/services';

/**
 * Graph's webhook. Answers the validation handshake with the decoded token only;
 * otherwise persists accepted notifications and answers 202 well inside Graph's 3 s.
 * Anonymous by necessity (Graph cannot send keys): each item is authenticated by its
 * subscription's clientState instead.
 */
async function handler(req: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const requestId = context.invocationId;
  try {
    const validationToken = req.query.get('validationToken');
    if (validationToken !== null) {
      if (validationToken.length === 0 || validationToken.length > MAX_VALIDATION_TOKEN_LENGTH) {
        throw new ValidationError([{ field: 'query.validationToken', message: `must be 1–${MAX_VALIDATION_TOKEN_LENGTH} characters` }]);
      }
      // The token is echoed verbatim (Graph's handshake): nosniff stops a browser from reading it as HTML or script.
      return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }, body: validationToken };
    }
    const errors: FieldError[] = [];
    const raw = await readJsonBody(req, errors, MAX_NOTIFICATION_BODY_BYTES);
    if (errors.length > 0) throw new ValidationError(errors);
    const batch = GraphNotificationBatch.safeParse(raw);
    if (!batch.success) throw new ValidationError(toFieldErrors(batch.error, 'body'));
    const services = await getServices();
    const log = makeLog(context, { requestId, invocationId: context.invocationId, function: api.graphNotifications.name });
    await acceptNotifications(services, batch.data.value, { requestId, invocationId: context.invocationId, caller: null, log, now: new Date() });
    return { status: 202 };
  } catch (err) {
    const { response, unexpected } = problemFromError(err, requestId);
    if (unexpected) context.error(JSON.stringify({ event: 'notifications.failed', requestId, error: describe(err) }));
    return response;
  }
}

defineHttp(api.graphNotifications.name, {
  methods: ['POST'],
  route: api.graphNotifications.route,
  authLevel: 'anonymous',
  handler,
});

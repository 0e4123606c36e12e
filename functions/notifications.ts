import '../shared/startup';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import * as api from '../shared/api/endpoints';
import { GraphNotificationBatch, MAX_NOTIFICATION_BODY_BYTES, MAX_VALIDATION_TOKEN_LENGTH } from '../shared/api/notifications';
import { ValidationError, type FieldError } from '../shared/errors';
import { defineHttp, defineStorageQueue, QUEUES } from '../shared/functionRegistry';
import { describe, makeLog, readJsonBody, toFieldErrors } from '../shared/http/endpoint';
import { problemFromError } from '../shared/http/problem';
import { acceptNotifications } from '../shared/operations/notifications';
import { handleDeliveryMessage } from '../shared/operations/deliveries';
import { getServices } from '../shared/services';
import { queuePayload } from '../shared/util/queueMessage';

/**
 * Graph's webhook. Answers the validation handshake with the decoded token only;
 * otherwise authenticates each item by its signed clientState (no read), persists the
 * delivery in one storage round trip and answers 202 well inside Graph's 3 s (503 if it
 * could not persist, so Graph redelivers). Anonymous by necessity (Graph cannot send keys).
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

// The other half, off Graph's clock: who is syncing, lifecycle events, hand-on to mail-changes.
defineStorageQueue('graph-deliveries', {
  queueName: QUEUES.deliveries,
  connection: 'AzureWebJobsStorage',
  handler: async (message: unknown, context: InvocationContext) => {
    const raw = queuePayload(message);
    const requestId = (raw as { requestId?: unknown } | null)?.requestId;
    const log = makeLog(context, { requestId: typeof requestId === 'string' ? requestId : null, invocationId: context.invocationId, function: context.functionName });
    try {
      await handleDeliveryMessage(await getServices(), raw, { log, now: () => new Date() });
    } catch (err) {
      context.error(JSON.stringify({ event: 'notifications.delivery_failed', requestId: typeof requestId === 'string' ? requestId : null, error: describe(err) }));
      throw err; // the queue redelivers, then poisons after maxDequeueCount
    }
  },
});

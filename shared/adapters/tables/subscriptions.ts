import { odata, type TableClient } from '@azure/data-tables';
import type { MailResource, Subscription } from '../../domain/model';
import { ConflictError, NotFoundError, PreconditionFailedError } from '../../errors';
import type { SubscriptionStore } from '../../ports';
import { compact, etagOf, text, textOrNull, type Row } from './entity';
import { storageCall } from './failures';
import { checkEntity, checkKey } from './limits';
import { scanPage } from './scan';

/**
 * Table Subscriptions: PartitionKey = employeeId, RowKey = resource.
 * Table SubscriptionIndex: PartitionKey = subscriptionId (notification intake looks up by it).
 * The index row is written before the subscription and deleted after it, so every stored
 * subscription is always findable; an index row may briefly outlive its subscription.
 */
const INDEX_ROW = 'subscription';

type NewSubscription = Omit<Subscription, 'etag'>;

function toEntity(sub: NewSubscription) {
  return compact({
    partitionKey: checkKey('employeeId', sub.employeeId),
    rowKey: checkKey('resource', sub.resource),
    subscriptionId: sub.subscriptionId,
    mailbox: sub.mailbox,
    expiresAt: sub.expiresAt,
    createdAt: sub.createdAt,
    lastRenewedAt: sub.lastRenewedAt,
    clientStateHash: sub.clientStateHash,
  });
}

function toSubscription(row: Row): Subscription {
  return {
    employeeId: row.partitionKey ?? '',
    resource: (row.rowKey ?? '') as MailResource,
    subscriptionId: text(row, 'subscriptionId'),
    mailbox: text(row, 'mailbox'),
    expiresAt: text(row, 'expiresAt'),
    createdAt: text(row, 'createdAt'),
    lastRenewedAt: textOrNull(row, 'lastRenewedAt'),
    clientStateHash: text(row, 'clientStateHash'),
    etag: etagOf(row),
  };
}

const stale = () => {
  throw new PreconditionFailedError();
};

export function createSubscriptionStore(subscriptions: TableClient, index: TableClient): SubscriptionStore {
  const readSubscription = (employeeId: string, resource: string) =>
    storageCall('read subscription', () => subscriptions.getEntity<Row>(employeeId, resource).then((r): Row | null => r), { 404: () => null });

  const writeIndex = (sub: NewSubscription) => {
    const entity = {
      partitionKey: checkKey('subscriptionId', sub.subscriptionId),
      rowKey: INDEX_ROW,
      employeeId: sub.employeeId,
      resource: sub.resource,
      clientStateHash: sub.clientStateHash,
    };
    return storageCall('write subscription index', () => index.upsertEntity(entity, 'Replace'));
  };
  const dropIndex = (subscriptionId: string) =>
    storageCall('delete subscription index', () => index.deleteEntity(subscriptionId, INDEX_ROW).then(() => undefined), { 404: () => undefined });

  async function create(sub: NewSubscription, entity: ReturnType<typeof toEntity>): Promise<string> {
    await writeIndex(sub);
    const created = await storageCall('create subscription', () => subscriptions.createEntity(entity).then((r): string | null => r.etag ?? ''), {
      409: () => null,
    });
    if (created !== null) return created;
    const existing = await readSubscription(entity.partitionKey, entity.rowKey);
    if (existing && text(existing, 'subscriptionId') !== sub.subscriptionId) await dropIndex(sub.subscriptionId);
    throw new ConflictError('SUBSCRIPTION_EXISTS', `A ${sub.resource} subscription is already stored for employee '${sub.employeeId}'.`);
  }

  async function replace(sub: NewSubscription, entity: ReturnType<typeof toEntity>, etag: string): Promise<string> {
    const current = await readSubscription(entity.partitionKey, entity.rowKey);
    if (!current || etagOf(current) !== etag) stale();
    const previousId = text(current as Row, 'subscriptionId');
    const idChanged = previousId !== sub.subscriptionId;
    await writeIndex(sub);
    try {
      const saved = await storageCall('update subscription', () => subscriptions.updateEntity(entity, 'Replace', { etag }), { 404: stale, 412: stale });
      if (idChanged) await dropIndex(previousId);
      return saved.etag ?? '';
    } catch (err) {
      if (idChanged) await dropIndex(sub.subscriptionId);
      throw err;
    }
  }

  return {
    async listForUser(employeeId) {
      const filter = odata`PartitionKey eq ${checkKey('employeeId', employeeId)}`;
      const found: Subscription[] = [];
      // at most one row per resource: a single small page
      const pages = subscriptions.listEntities<Row>({ queryOptions: { filter } }).byPage({ maxPageSize: 100 });
      const next = () => storageCall('list subscriptions', () => pages.next());
      for (let page = await next(); !page.done; page = await next()) found.push(...page.value.map(toSubscription));
      return found;
    },

    async save(sub, etag) {
      const entity = toEntity(sub);
      checkEntity(entity);
      checkKey('subscriptionId', sub.subscriptionId);
      const newEtag = etag === null ? await create(sub, entity) : await replace(sub, entity, etag);
      return { ...sub, etag: newEtag };
    },

    async delete(employeeId, resource, etag) {
      const current = await readSubscription(checkKey('employeeId', employeeId), checkKey('resource', resource));
      if (!current) throw new NotFoundError('SUBSCRIPTION_NOT_FOUND', `No ${resource} subscription is stored for employee '${employeeId}'.`);
      await storageCall('delete subscription', () => subscriptions.deleteEntity(employeeId, resource, { etag }), { 404: stale, 412: stale });
      await dropIndex(text(current, 'subscriptionId'));
    },

    async findById(subscriptionId) {
      const row = await storageCall(
        'find subscription',
        () => index.getEntity<Row>(checkKey('subscriptionId', subscriptionId), INDEX_ROW).then((r): Row | null => r),
        { 404: () => null },
      );
      if (!row) return null;
      return { employeeId: text(row, 'employeeId'), resource: text(row, 'resource') as MailResource, clientStateHash: text(row, 'clientStateHash') };
    },

    listUsers(page) {
      // distinct employee ids: resume after the last one returned, skip the rest of its rows
      let previous: string | null = null;
      return scanPage<string>({
        table: subscriptions,
        action: 'list subscribed users',
        page,
        select: ['PartitionKey'],
        filter: (after) => (after === null ? '' : odata`PartitionKey gt ${after}`),
        toItem: (row) => {
          const employeeId = row.partitionKey ?? '';
          const isNew = employeeId !== previous;
          previous = employeeId;
          return isNew ? employeeId : null;
        },
        cursorOf: (row) => row.partitionKey ?? '',
      });
    },
  };
}

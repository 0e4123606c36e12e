import { MAX_MESSAGE_BYTES } from '../../shared/adapters/queues';
import { DeliveryMessage, type DeliveryItem } from '../../shared/api/notifications';
import { toMessages } from '../../shared/operations/notifications';

/** A notification as large as Graph's Outlook ones get: long item ids in the path and in resourceData. */
function item(i: number): DeliveryItem {
  const id = `AAMkAGUwNjQ4ZjIxLTQ3Y2Y${'x'.repeat(130)}${i}`;
  return {
    subscriptionId: `7f105c7d-2dc5-4530-97cd-${String(i).padStart(12, '0')}`,
    employeeId: `E${String(i % 250).padStart(4, '0')}`,
    resource: 'events',
    changeType: 'updated',
    resourcePath: `Users/622eaaff-0683-4862-9de4-f2ec83c2bd98/Events/${id}`,
    resourceId: id,
    tenantId: '84bd8158-6d4d-4958-8b9f-9d6445542f95',
  };
}

describe('persisting a delivery', () => {
  const ctx = { requestId: 'req-1', now: new Date('2026-12-03T12:00:00Z') };

  it('packs a 1,000-item delivery into queue messages under 64 KiB each, every item once, in order', () => {
    const items = Array.from({ length: 1000 }, (_, i) => item(i));
    const messages = toMessages(items, ctx);
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) {
      expect(Buffer.byteLength(JSON.stringify(m), 'utf8')).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      expect(DeliveryMessage.parse(m)).toEqual(m);
      expect(m).toMatchObject({ requestId: 'req-1', receivedAt: '2026-12-03T12:00:00.000Z', parts: messages.length });
    }
    expect(messages.map((m) => m.part)).toEqual(messages.map((_, i) => i + 1));
    expect(messages.flatMap((m) => m.items)).toEqual(items);
  });

  it('puts a small delivery in one message and an empty one in none', () => {
    expect(toMessages([item(1), item(2)], ctx)).toHaveLength(1);
    expect(toMessages([], ctx)).toEqual([]);
  });
});

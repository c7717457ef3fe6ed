/**
 * Per-account order: an endpoint takes one account's notifications in the order the account got
 * them. Each margin notification names the account's earlier ones (`preceding`); a delivery is
 * sent only once the delivery it follows to the same endpoint is finished, or behind it in a lane.
 */
import type { DeliveryRecord, LaneEntry, NotificationRecord, WebhookEndpoint } from "../ports/index.ts";
import type { WebhookDeps } from "./deps.ts";

/** Delivered, or parked: either way the account's next notification may go. */
export const isFinal = (delivery: DeliveryRecord) =>
  delivery.status === "delivered" || delivery.status === "failed";

/**
 * The notification an endpoint's delivery of `notification` follows: the account's latest earlier
 * one of a type the endpoint takes, if the endpoint took it then (registered, or its types last
 * changed or it was last enabled, before it was made); null if none.
 */
export function precedingFor(notification: NotificationRecord, endpoint: WebhookEndpoint): string | null {
  return precedingEntry(notification, endpoint)?.id ?? null;
}

function precedingEntry(notification: NotificationRecord, endpoint: WebhookEndpoint) {
  const since = endpoint.subscribedSinceMs ?? endpoint.createdAtMs;
  const found = notification.preceding?.find((p) => endpoint.types.includes(p.type));
  return found && found.createdAtMs >= since ? found : undefined;
}

/**
 * The notifications the endpoint's delivery of `notification` must wait for, newest first: back
 * along `preceding` through those without a delivery (not dispatched yet, or in another worker's
 * hands), up to the first one that has one. A finished one ends the wait; an unfinished one is
 * waited for (what it waits for was seen to when it was written).
 */
export async function unfinishedBefore(
  deps: WebhookDeps,
  notification: NotificationRecord,
  endpoint: WebhookEndpoint,
): Promise<LaneEntry[]> {
  const waiting: LaneEntry[] = [];
  let current: NotificationRecord | null = notification;
  while (current) {
    const before = precedingEntry(current, endpoint);
    if (!before) break;
    const delivery = (await deps.store.getDeliveries(before.id)).find((d) => d.endpointId === endpoint.id);
    if (delivery && isFinal(delivery)) break;
    waiting.push({
      notificationId: before.id,
      ...(before.sequence !== undefined ? { sequence: before.sequence } : {}),
    });
    if (delivery) break;
    current = await deps.store.getNotification(before.id);
  }
  return waiting;
}

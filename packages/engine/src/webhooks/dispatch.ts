/** A new notification gets one delivery per subscribed endpoint, in its account's lane (the one-by-one path). */
import {
  type DeliveryRecord,
  laneEntryOf,
  type NotificationRecord,
  type WebhookEndpoint,
} from "../ports/index.ts";
import { advance, attemptDelivery, leaseMs } from "./attempt.ts";
import type { WebhookDeps } from "./deps.ts";
import { unfinishedBefore } from "./order.ts";

/** A venue's endpoints, read once per venue for the caller's run (a notify batch, a redeliver run). */
export function endpointsByVenue(
  deps: Pick<WebhookDeps, "store">,
): (venue: string) => Promise<WebhookEndpoint[]> {
  const endpoints = new Map<string, Promise<WebhookEndpoint[]>>();
  return (venue) => {
    let list = endpoints.get(venue);
    if (!list) {
      list = deps.store.listEndpoints(venue);
      endpoints.set(venue, list);
    }
    return list;
  };
}

/** The venue's endpoints that take this notification: enabled and subscribed to its type. */
export const subscribedTo = (notification: NotificationRecord, endpoints: readonly WebhookEndpoint[]) =>
  endpoints.filter((e) => e.enabled && e.types.includes(notification.type));

/**
 * A delivery as first written: at the head of its lane it is born pending under this worker's
 * lease (it sends at once; the cron only if the worker dies), behind others it waits queued.
 */
export function newDelivery(
  deps: WebhookDeps,
  notification: NotificationRecord,
  endpoint: WebhookEndpoint,
  { head, nowMs }: { head: boolean; nowMs: number },
): DeliveryRecord {
  return {
    notificationId: notification.id,
    endpointId: endpoint.id,
    venue: notification.venue,
    accountId: notification.accountId,
    status: head ? "pending" : "queued",
    attempts: [],
    roundStart: 0,
    nextAttemptAtMs: head ? nowMs + leaseMs(deps) : null,
    createdAtMs: notification.createdAtMs,
    deliveredAtMs: null,
    version: 1,
    ...(notification.sequence !== undefined ? { sequence: notification.sequence } : {}),
  };
}

export interface DispatchResult {
  deliveries: number;
  attempted: number;
}

/**
 * A new outbox item (from the table's stream): one delivery per enabled endpoint of its venue
 * subscribed to its type, then the due ones are sent. Idempotent: a replayed stream record finds
 * the deliveries already there and only (re)sends what is due, with the same `webhook-id`.
 */
export async function dispatchNotification(
  deps: WebhookDeps,
  notification: NotificationRecord,
  venueEndpoints?: readonly WebhookEndpoint[],
): Promise<DispatchResult> {
  const endpoints = subscribedTo(
    notification,
    venueEndpoints ?? (await deps.store.listEndpoints(notification.venue)),
  );
  if (endpoints.length === 0) return { deliveries: 0, attempted: 0 };
  const nowMs = deps.now();
  // Join the account's lane first: the delivery is born pending if it is the lane's head. The
  // notifications it follows that are not finished go in front, in the account's order (they may
  // be in another worker's hands, or not read from the stream yet): they head the lane until done.
  const fresh = await Promise.all(
    endpoints.map(async (endpoint): Promise<DeliveryRecord> => {
      const { accountId } = notification;
      if (!accountId) return newDelivery(deps, notification, endpoint, { head: true, nowMs });
      const lease = nowMs + leaseMs(deps);
      for (const waiting of await unfinishedBefore(deps, notification, endpoint))
        await deps.store.joinLane(endpoint.id, accountId, waiting, lease);
      const lane = await deps.store.joinLane(
        endpoint.id,
        accountId,
        laneEntryOf({ notificationId: notification.id, sequence: notification.sequence }),
        lease,
      );
      return newDelivery(deps, notification, endpoint, { head: lane[0] === notification.id, nowMs });
    }),
  );
  const deliveries = await deps.store.ensureDeliveries(fresh);
  const attempts = await Promise.all(
    deliveries.map(({ record, created }) => {
      const endpoint = endpoints.find((e) => e.id === record.endpointId);
      if (!endpoint) return 0;
      return created && record.status === "pending"
        ? attemptDelivery(deps, record, { notification, endpoint })
        : advance(deps, record, { notification, endpoint });
    }),
  );
  return { deliveries: deliveries.length, attempted: attempts.reduce((a, b) => a + b, 0) };
}

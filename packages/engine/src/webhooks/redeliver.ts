/** The redeliver cron (due retries), the replay of parked deliveries, and a notification's delivery status. */

import { forEachConcurrently } from "../concurrency.ts";
import type { DeliveryRecord } from "../ports/index.ts";
import { advance } from "./attempt.ts";
import type { WebhookDeps } from "./deps.ts";

export interface RedeliverResult {
  attempted: number;
}

/** The `redeliver` cron: every pending delivery that is due, earliest first, a few at a time. */
export async function redeliverDue(
  deps: WebhookDeps,
  options: { limit?: number; concurrency?: number } = {},
): Promise<RedeliverResult> {
  const due = await deps.store.dueDeliveries(deps.now(), options.limit ?? 1_000);
  let attempted = 0;
  await forEachConcurrently(due, options.concurrency ?? 16, async (delivery) => {
    attempted += await advance(deps, delivery);
  });
  return { attempted };
}

/**
 * Replays parked deliveries (of one notification, or all): each starts a new round of the
 * schedule, keeping its history, and rejoins its account's lane.
 */
export async function replayParked(
  deps: WebhookDeps,
  notificationId?: string,
  options: { delivered?: boolean } = {},
): Promise<number> {
  // A delivered one is sent again only on request (a venue that lost it asks through the API).
  const replayable = (d: DeliveryRecord) =>
    d.status === "failed" || (options.delivered === true && d.status === "delivered");
  const parked = notificationId
    ? (await deps.store.getDeliveries(notificationId)).filter(replayable)
    : await deps.store.failedDeliveries();
  let replayed = 0;
  for (const delivery of parked) {
    const requeued: DeliveryRecord = {
      ...delivery,
      status: "queued",
      roundStart: delivery.attempts.length,
      nextAttemptAtMs: null,
      version: delivery.version + 1,
    };
    if (!(await deps.store.updateDelivery(requeued, delivery.version))) continue;
    replayed++;
    await advance(deps, requeued);
  }
  return replayed;
}

export type NotificationDeliveryStatus = "delivered" | "pending" | "failed" | "no-endpoint";

/** A notification's overall delivery status: failed if any endpoint's delivery is parked. */
export function deliveryStatusOf(deliveries: readonly DeliveryRecord[]): NotificationDeliveryStatus {
  if (deliveries.length === 0) return "no-endpoint";
  if (deliveries.some((d) => d.status === "failed")) return "failed";
  if (deliveries.every((d) => d.status === "delivered")) return "delivered";
  return "pending";
}

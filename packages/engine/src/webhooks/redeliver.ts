/** The redeliver cron (due retries), the replay of parked deliveries, and a notification's delivery status. */

import { forEachConcurrently } from "../concurrency.ts";
import type { DeliveryRecord, LaneHead } from "../ports/index.ts";
import { advance, leaseMs, releaseLane } from "./attempt.ts";
import type { WebhookDeps } from "./deps.ts";
import { endpointsByVenue, newDelivery } from "./dispatch.ts";
import { isFinal } from "./order.ts";

/** Due deliveries to one endpoint that one redeliver run sends at once. */
export const PER_ENDPOINT_REDELIVERIES = 8;

export interface RedeliverResult {
  attempted: number;
}

/**
 * The `redeliver` cron: every pending delivery that is due, earliest first, a few at a time per
 * endpoint; then the lanes whose head's lease ran out (`recoverLanes`).
 */
export async function redeliverDue(
  deps: WebhookDeps,
  options: { limit?: number; concurrency?: number } = {},
): Promise<RedeliverResult> {
  const due = await deps.store.dueDeliveries(deps.now(), options.limit ?? 1_000);
  let attempted = 0;
  // Every endpoint at once, each a few at a time: a hanging one holds its own slots only.
  const byEndpoint = new Map<string, DeliveryRecord[]>();
  for (const delivery of due) {
    const list = byEndpoint.get(delivery.endpointId);
    if (list) list.push(delivery);
    else byEndpoint.set(delivery.endpointId, [delivery]);
  }
  const endpointsOf = endpointsByVenue(deps);
  await Promise.all(
    [...byEndpoint.values()].map((deliveries) =>
      forEachConcurrently(deliveries, options.concurrency ?? PER_ENDPOINT_REDELIVERIES, async (delivery) => {
        const endpoint = (await endpointsOf(delivery.venue)).find((e) => e.id === delivery.endpointId);
        attempted += await advance(deps, delivery, endpoint ? { endpoint } : {});
      }),
    ),
  );
  attempted += await recoverLanes(deps, options);
  return { attempted };
}

/**
 * Lanes whose head's lease ran out. The head's delivery decides:
 * - none: its worker died between joining the lane and writing it (and the stream record may be
 *   gone): it is written from the outbox, due now, and sent;
 * - queued: its promotion was lost (a worker died after the head before it left): it is sent;
 * - finished: its worker died before leaving the lane: it leaves, and the next one is sent;
 * - pending: it is on the retry schedule (the redeliver job sends it): the lease is renewed until
 *   its next attempt.
 * Returns the attempts made.
 */
export async function recoverLanes(
  deps: WebhookDeps,
  options: { limit?: number; concurrency?: number } = {},
): Promise<number> {
  const nowMs = deps.now();
  const expired = await deps.store.expiredLanes(nowMs, options.limit ?? 1_000);
  let attempted = 0;
  await forEachConcurrently(expired, options.concurrency ?? 16, async (lane) => {
    attempted += await recoverLane(deps, lane, nowMs);
  });
  return attempted;
}

async function recoverLane(deps: WebhookDeps, lane: LaneHead, nowMs: number): Promise<number> {
  const delivery = (await deps.store.getDeliveries(lane.head)).find((d) => d.endpointId === lane.endpointId);
  if (delivery?.status === "pending") {
    await deps.store.renewLane(lane, Math.max(nowMs, delivery.nextAttemptAtMs ?? nowMs) + leaseMs(deps));
    return 0;
  }
  if (delivery) return isFinal(delivery) ? releaseLane(deps, delivery) : advance(deps, delivery);
  const notification = await deps.store.getNotification(lane.head);
  const endpoint = notification
    ? (await deps.store.listEndpoints(notification.venue)).find((e) => e.id === lane.endpointId)
    : undefined;
  if (!notification || !endpoint) {
    // Nothing to send it from: it leaves the lane, so the account's later notifications go on.
    const orphan = { endpointId: lane.endpointId, accountId: lane.accountId, notificationId: lane.head };
    return releaseLane(deps, orphan);
  }
  // Written due now (not under a lease): whoever claims it first sends it, this job or its worker.
  const record = {
    ...newDelivery(deps, notification, endpoint, { head: true, nowMs }),
    nextAttemptAtMs: nowMs,
  };
  const [stored] = await deps.store.ensureDeliveries([record]);
  return stored ? advance(deps, stored.record, { notification, endpoint }) : 0;
}

/** How long one Redeliver run keeps polling: most of the minute until the cron's next run. */
export const REDELIVER_WINDOW_MS = 55_000;
/** How often it asks for due deliveries within its run: a retry goes out within this of its time. */
export const REDELIVER_POLL_MS = 1_000;

/**
 * One run of the once-a-minute Redeliver job: redeliverDue every REDELIVER_POLL_MS for
 * REDELIVER_WINDOW_MS, so the schedule's 5 s step is sent about 5 s after the failure instead of
 * at the next minute. Stops early when `signal` aborts (a shutdown). `sleep` and `deps.now` are
 * injectable, so tests run the window on a fake clock.
 */
export async function redeliverWindow(
  deps: WebhookDeps,
  options: {
    windowMs?: number;
    pollMs?: number;
    signal?: AbortSignal;
    sleep?: (ms: number) => Promise<void>;
  } = {},
): Promise<RedeliverResult> {
  const pollMs = options.pollMs ?? REDELIVER_POLL_MS;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const until = deps.now() + (options.windowMs ?? REDELIVER_WINDOW_MS);
  let attempted = 0;
  for (;;) {
    attempted += (await redeliverDue(deps)).attempted;
    if (options.signal?.aborted || deps.now() + pollMs > until) return { attempted };
    await sleep(pollMs);
  }
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

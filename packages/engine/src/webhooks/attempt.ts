/** One attempt of a delivery: claimed, sent, recorded; a finished one moves its lane on. */
import { type AttemptOutcome, attemptWebhook, nextAttemptAt } from "@backing/webhooks";
import {
  type DeliveryRecord,
  laneEntryOf,
  type NotificationRecord,
  type WebhookEndpoint,
} from "../ports/index.ts";
import { notificationBody, type WebhookDeps } from "./deps.ts";
import { activeSecrets } from "./endpoints.ts";
import { isFinal, unfinishedBefore } from "./order.ts";

/**
 * Moves one delivery on: a queued one joins its account's lane and is attempted when it is the
 * lane's head; a pending one is attempted when it is due (one never sent, only once what it
 * follows is finished: `inTurn`). Either way it is claimed first. Returns the number of attempts
 * made (including those of deliveries it promoted).
 */
export async function advance(
  deps: WebhookDeps,
  delivery: DeliveryRecord,
  given: { notification?: NotificationRecord; endpoint?: WebhookEndpoint } = {},
): Promise<number> {
  let known = given;
  const nowMs = deps.now();
  if (delivery.status === "queued" && delivery.accountId) {
    const lane = await deps.store.joinLane(
      delivery.endpointId,
      delivery.accountId,
      laneEntryOf(delivery),
      nowMs + leaseMs(deps),
    );
    if (lane[0] !== delivery.notificationId) return 0;
  } else if (isFinal(delivery) && delivery.accountId) {
    // Done already: a replayed stream record that joined its lane again must not hold the lane.
    return releaseLane(deps, delivery);
  } else if (delivery.status !== "queued") {
    if (
      delivery.status !== "pending" ||
      delivery.nextAttemptAtMs === null ||
      delivery.nextAttemptAtMs > nowMs
    )
      return 0;
    if (delivery.accountId && delivery.attempts.length === delivery.roundStart) {
      // Never sent: it was written for later (its endpoint was slow), so its turn is checked now.
      known = await withKnown(deps, delivery, known);
      if (!(await inTurn(deps, delivery, known))) return 0;
    }
  }
  // Claim it: the lease keeps a second worker (the cron, a replayed stream record) from sending
  // it at the same time; a worker that dies leaves it due again when the lease ends.
  const claimed: DeliveryRecord = {
    ...delivery,
    status: "pending",
    nextAttemptAtMs: nowMs + leaseMs(deps),
    version: delivery.version + 1,
  };
  if (!(await deps.store.updateDelivery(claimed, delivery.version))) return 0;
  return attemptDelivery(deps, claimed, known);
}

/** The delivery's notification and endpoint, read unless given. */
async function withKnown(
  deps: WebhookDeps,
  delivery: DeliveryRecord,
  known: { notification?: NotificationRecord; endpoint?: WebhookEndpoint },
) {
  const notification = known.notification ?? (await deps.store.getNotification(delivery.notificationId));
  const endpoint =
    known.endpoint ??
    (await deps.store.listEndpoints(delivery.venue)).find((e) => e.id === delivery.endpointId);
  return { ...(notification ? { notification } : {}), ...(endpoint ? { endpoint } : {}) };
}

/**
 * Whether a delivery never sent may go now: nothing it follows is unfinished. If something is,
 * it joins the lane behind it (with what it follows that is not in the lane yet) and waits there
 * queued; should the lane's head have finished before it was in the lane (its sender saw no lane),
 * the lane moves on now.
 */
async function inTurn(
  deps: WebhookDeps,
  delivery: DeliveryRecord,
  { notification, endpoint }: { notification?: NotificationRecord; endpoint?: WebhookEndpoint },
): Promise<boolean> {
  if (!notification?.preceding || !endpoint) return true;
  const waiting = await unfinishedBefore(deps, notification, endpoint);
  if (waiting.length === 0) return true;
  const accountId = delivery.accountId as string;
  const lease = deps.now() + leaseMs(deps);
  for (const entry of waiting) await deps.store.joinLane(delivery.endpointId, accountId, entry, lease);
  const lane = await deps.store.joinLane(delivery.endpointId, accountId, laneEntryOf(delivery), lease);
  if (lane[0] === delivery.notificationId) return true;
  const queued: DeliveryRecord = {
    ...delivery,
    status: "queued",
    nextAttemptAtMs: null,
    version: delivery.version + 1,
  };
  if (!(await deps.store.updateDelivery(queued, delivery.version))) return false;
  const head = (await deps.store.getDeliveries(lane[0] as string)).find(
    (d) => d.endpointId === delivery.endpointId,
  );
  if (head && isFinal(head)) await releaseLane(deps, head);
  return false;
}

/** An attempt's lease: the request timeout and a margin. */
export const leaseMs = (deps: WebhookDeps) => deps.delivery.timeoutMs + 5_000;

/** One attempt of a claimed delivery, recorded (see recordAttempt). Returns the attempts made. */
export async function attemptDelivery(
  deps: WebhookDeps,
  delivery: DeliveryRecord,
  known: { notification?: NotificationRecord; endpoint?: WebhookEndpoint } = {},
): Promise<number> {
  const { notification, endpoint } = await withKnown(deps, delivery, known);
  const sent = await send(deps, delivery, notification, endpoint);
  return recordAttempt(deps, delivery, sent);
}

/** One attempt's outcome and the delivery record that reflects it (not yet written). */
export interface SentAttempt {
  outcome: AttemptOutcome;
  updated: DeliveryRecord;
  endpoint: WebhookEndpoint | undefined;
}

/** Sends one claimed delivery and works out its next state: delivered, retried later, or parked. */
export async function send(
  deps: WebhookDeps,
  delivery: DeliveryRecord,
  notification: NotificationRecord | null | undefined,
  endpoint: WebhookEndpoint | undefined,
): Promise<SentAttempt> {
  const nowMs = deps.now();
  let outcome: AttemptOutcome;
  if (!notification) outcome = { result: "failed", error: "notification not found" };
  else if (!endpoint?.enabled)
    outcome = { result: "failed", error: `endpoint ${endpoint ? "disabled" : "removed"}` };
  else {
    outcome = await attemptWebhook(
      deps.delivery,
      { url: endpoint.url, secrets: activeSecrets(endpoint, nowMs) },
      { id: notification.id, body: notificationBody(notification), nowMs },
    );
  }
  const attempts = [
    ...delivery.attempts,
    {
      atMs: nowMs,
      result: outcome.result,
      ...(outcome.status !== undefined ? { status: outcome.status } : {}),
      ...(outcome.error !== undefined ? { error: outcome.error } : {}),
    },
  ];
  const endpointGone = outcome.result === "gone" || !endpoint?.enabled || !notification;
  const next =
    outcome.result === "delivered" || endpointGone
      ? null
      : nextAttemptAt(attempts.length - delivery.roundStart, nowMs, outcome.retryAfterMs);
  const updated: DeliveryRecord = {
    ...delivery,
    attempts,
    status: outcome.result === "delivered" ? "delivered" : next === null ? "failed" : "pending",
    nextAttemptAtMs: next,
    deliveredAtMs: outcome.result === "delivered" ? nowMs : delivery.deliveredAtMs,
    version: delivery.version + 1,
  };
  return { outcome, updated, endpoint };
}

/**
 * Records an attempt conditionally on the claimed version (were the lease to run out mid-attempt
 * and another worker to send it too, the receiver sees the message twice with the same id: at
 * least once). Final outcomes (delivered, or parked after the last attempt or on 410) release the
 * account's lane, and the next notification of the lane is sent at once.
 */
export async function recordAttempt(
  deps: WebhookDeps,
  delivery: DeliveryRecord,
  sent: SentAttempt,
): Promise<number> {
  const { updated } = sent;
  if (!(await deps.store.updateDelivery(updated, delivery.version))) return 1;
  return 1 + (await afterRecorded(deps, sent, { laneLeft: false }));
}

/** What follows a recorded attempt: the callback, a 410's endpoint disabled, the lane moved on. */
export async function afterRecorded(
  deps: WebhookDeps,
  sent: SentAttempt,
  { laneLeft }: { laneLeft: boolean },
) {
  const { updated, outcome, endpoint } = sent;
  deps.onAttempt?.(updated, outcome);
  if (outcome.result === "gone" && endpoint?.enabled)
    await deps.store.putEndpoint({
      ...endpoint,
      enabled: false,
      disabledReason: `410 Gone at ${new Date(deps.now()).toISOString()}`,
    });
  if (laneLeft || !isFinal(updated) || !updated.accountId) return 0;
  return releaseLane(deps, updated);
}

/** A delivery that is done leaves its lane; the lane's next notification is sent now. */
export async function releaseLane(
  deps: WebhookDeps,
  done: Pick<DeliveryRecord, "endpointId" | "accountId" | "notificationId">,
): Promise<number> {
  const [head] = await deps.store.leaveLane(
    done.endpointId,
    done.accountId as string,
    done.notificationId,
    deps.now() + leaseMs(deps),
  );
  if (!head) return 0;
  // The next one's dispatcher may have joined the lane and not yet written its delivery: then
  // it finds itself at the head when it has, and sends it itself (dispatchNotification).
  const waiting = (await deps.store.getDeliveries(head)).find((d) => d.endpointId === done.endpointId);
  return waiting ? advance(deps, waiting) : 0;
}

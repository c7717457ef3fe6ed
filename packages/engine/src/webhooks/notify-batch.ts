/** The notify handler: a batch of stream records, sent first and written once where no lane holds the account. */
import { forEachConcurrently } from "../concurrency.ts";
import {
  type DeliveryRecord,
  deliveryKey,
  laneEntryOf,
  type NotificationRecord,
  type WebhookEndpoint,
} from "../ports/index.ts";
import { afterRecorded, leaseMs, recordAttempt, releaseLane, type SentAttempt, send } from "./attempt.ts";
import { topicMessage, type WebhookDeps } from "./deps.ts";
import { dispatchNotification, endpointsByVenue, newDelivery, subscribedTo } from "./dispatch.ts";
import { endpointGate, INLINE_BUDGET_MS } from "./endpoint-gate.ts";
import { isFinal, precedingFor } from "./order.ts";

interface Candidate {
  record: DeliveryRecord;
  notification: NotificationRecord;
  endpoint: WebhookEndpoint;
  /** Written due now for the redeliver job, not sent (its endpoint is slow). */
  forLater: boolean;
}

export interface FreeDispatch {
  /** Per notification, the endpoints left to `dispatchNotification`: a busy lane, a replay. */
  left: Map<string, WebhookEndpoint[]>;
  /** Notifications with an unfinished delivery: the account's later ones wait for it. */
  retrying: Set<string>;
}

/**
 * notifyBatch's fast path, for notifications whose account has no lane to the endpoint (the usual
 * case): send first, then write once. One consistent batch read finds the lanes that hold a
 * notification, the deliveries that exist already (a replayed record) and the deliveries of the
 * notifications they follow (`precedingFor`); a busy lane, an existing delivery or an unfinished
 * predecessor leaves the notification to `dispatchNotification`. The rest are sent at once. Final
 * deliveries (delivered, or parked on a 410), and unfinished ones of linked notifications, are
 * written in batches; the account's later notifications find an unfinished one and wait behind
 * it in a lane (a lane exists only while a delivery is unfinished). A crash before the writes
 * leaves nothing written: the stream hands the record over again and it is sent again with the
 * same `webhook-id`, at least once.
 *
 * Order per account holds within a batch (rounds), behind an open lane, and across workers: with
 * the stream's parallelizationFactor above 1, two of one account's notifications (two items) can
 * reach two workers at once, and the later one is sent only once the earlier one's delivery is
 * finished. If it is not, the later one puts the earlier one in front of it in the lane; should the
 * earlier one's worker then finish it on the fast path (not knowing the lane), the lane's lease runs
 * out and the redeliver job moves it on (`recoverLanes`).
 */
export async function dispatchFree(
  deps: WebhookDeps,
  notifications: readonly NotificationRecord[],
  endpointsOf: (venue: string) => Promise<WebhookEndpoint[]>,
): Promise<FreeDispatch> {
  const nowMs = deps.now();
  const gate = endpointGate(deps);
  const candidates: Candidate[] = [];
  for (const notification of notifications)
    for (const endpoint of subscribedTo(notification, await endpointsOf(notification.venue)))
      candidates.push({
        notification,
        endpoint,
        record: newDelivery(deps, notification, endpoint, { head: true, nowMs }),
        // A slow endpoint's linked deliveries are only written, for the redeliver job, which
        // checks their turn before it sends them: what they follow need not be read now.
        forLater: gate.isSlow(endpoint.id, nowMs) && notification.preceding !== undefined,
      });
  const busy =
    candidates.length > 0
      ? await deps.store.busyDeliveries(
          candidates.map(({ record, notification, endpoint, forLater }) => ({
            record,
            after: forLater ? null : precedingFor(notification, endpoint),
          })),
        )
      : new Set();
  const left = new Map<string, WebhookEndpoint[]>();
  const free = candidates.filter(({ record, notification, endpoint }) => {
    if (!busy.has(deliveryKey(record))) return true;
    left.set(notification.id, [...(left.get(notification.id) ?? []), endpoint]);
    return false;
  });
  const { sent, unfinished } = await sendPerEndpoint(deps, free);
  const retry = [
    ...sent.filter(({ updated }) => !isFinal(updated)).map(({ updated }) => updated),
    ...unfinished.map(({ record }) => record),
  ];
  // A linked notification's unfinished delivery needs no lane of its own: the account's next one
  // finds it unfinished and puts it in front of itself in a lane then (`dispatchNotification`).
  // Unlinked ones (written before notifications carried `preceding`) open their lane now.
  const linked = new Set(free.filter((c) => c.notification.preceding).map((c) => deliveryKey(c.record)));
  const unlinked = retry.filter((record) => !linked.has(deliveryKey(record)));
  await deps.store.recordDeliveries([
    ...sent.filter(({ updated }) => isFinal(updated)).map(({ updated }) => updated),
    ...retry.filter((record) => linked.has(deliveryKey(record))),
  ]);
  const refused =
    unlinked.length > 0 ? await deps.store.openLanes(unlinked, leaseMs(deps)) : new Set<string>();
  for (const record of unlinked) if (refused.has(deliveryKey(record))) await queueInLane(deps, record);
  // An attempt that outlived the batch is recorded when it ends, now that its delivery is written.
  for (const { record, attempt } of unfinished)
    if (attempt) gate.track(attempt.then((late) => recordAttempt(deps, record, late)));
  for (const attempt of sent) await afterRecorded(deps, attempt, { laneLeft: true });
  return { left, retrying: new Set(retry.map((record) => record.notificationId)) };
}

/**
 * Sends the free deliveries, every endpoint at once and each at most PER_ENDPOINT_SENDS at a time
 * (per process), so a hanging endpoint holds its own sends and no one else's. An attempt not back
 * within the inline budget marks its endpoint slow and is left to finish alone (its delivery is
 * written pending under the lease it was born with: the redeliver job sends it again only if this
 * process dies first); while an endpoint is slow, its deliveries are not sent inline but written
 * due now, for the redeliver job, and when the spell is over one delivery probes it without
 * holding the batch.
 */
async function sendPerEndpoint(
  deps: WebhookDeps,
  free: readonly Candidate[],
): Promise<{
  sent: SentAttempt[];
  unfinished: { record: DeliveryRecord; attempt?: Promise<SentAttempt> }[];
}> {
  const gate = endpointGate(deps);
  const budgetMs = deps.inlineBudgetMs ?? INLINE_BUDGET_MS;
  const sent: SentAttempt[] = [];
  const unfinished: { record: DeliveryRecord; attempt?: Promise<SentAttempt> }[] = [];
  await Promise.all(
    free.map(async ({ record, notification, endpoint, forLater }) => {
      if (forLater || !(await gate.slot(endpoint.id, deps.now))) {
        unfinished.push({ record: { ...record, nextAttemptAtMs: deps.now() } });
        return;
      }
      const startedMs = performance.now();
      const attempt = send(deps, record, notification, endpoint).finally(() => gate.release(endpoint.id));
      if (gate.probe(endpoint.id, deps.now())) {
        // Slow a while ago: this one is sent without waiting for it, and says if it is fast again.
        const probe = attempt.then((late) => {
          if (late.outcome.result === "delivered" && performance.now() - startedMs < budgetMs)
            gate.markFast(endpoint.id);
          return late;
        });
        unfinished.push({ record, attempt: probe });
        return;
      }
      const settled = await within(attempt, budgetMs);
      if (!settled) {
        gate.markSlow(endpoint.id, deps.now());
        unfinished.push({ record, attempt });
        return;
      }
      if (settled.outcome.result === "delivered") gate.markFast(endpoint.id);
      sent.push(settled);
    }),
  );
  return { sent, unfinished };
}

/** The promise's value if it settles within `ms`, else null (it goes on). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A delivery to retry whose lane was taken meanwhile (or that a replay wrote first): it joins the
 * lane and is written pending if it heads it, queued if not. One already finished leaves again.
 */
export async function queueInLane(deps: WebhookDeps, record: DeliveryRecord): Promise<void> {
  const lane = await deps.store.joinLane(
    record.endpointId,
    record.accountId as string,
    laneEntryOf(record),
    deps.now() + leaseMs(deps),
  );
  const head = lane[0] === record.notificationId;
  const [stored] = await deps.store.ensureDeliveries([
    head ? record : { ...record, status: "queued", nextAttemptAtMs: null },
  ]);
  if (stored && !stored.created && isFinal(stored.record)) await releaseLane(deps, stored.record);
}

export type NotificationEntry = Extract<NotifyEntry, { kind: "notification" }>;

/** How far the fast path took an account's notifications in a batch, and what it left of the next. */
export interface FastProgress {
  done: number;
  left?: WebhookEndpoint[];
}

/**
 * The fast path in rounds: every account's first notification in the first round, its second in
 * the next, and so on while the earlier ones finished there. If the store fails, the rest goes
 * one by one (every step is idempotent).
 */
export async function dispatchInRounds(
  deps: WebhookDeps,
  lanes: readonly NotificationEntry[][],
  endpointsOf: (venue: string) => Promise<WebhookEndpoint[]>,
): Promise<Map<NotificationEntry[], FastProgress>> {
  const progress = new Map<NotificationEntry[], FastProgress>();
  const accounts = lanes.filter((lane) => lane[0]?.notification.accountId);
  // Disjoint sets of accounts overlap: one reads or writes the store while another sends.
  const chunks = Array.from({ length: Math.ceil(accounts.length / FAST_CHUNK) }, (_, i) =>
    accounts.slice(i * FAST_CHUNK, (i + 1) * FAST_CHUNK),
  );
  await forEachConcurrently(chunks, FAST_CHUNKS_AT_ONCE, async (chunk) => {
    let round = chunk;
    for (let depth = 0; round.length > 0; depth++) {
      const notificationAt = (lane: NotificationEntry[]) => (lane[depth] as NotificationEntry).notification;
      let result: FreeDispatch;
      try {
        result = await dispatchFree(deps, round.map(notificationAt), endpointsOf);
      } catch {
        return;
      }
      const next: NotificationEntry[][] = [];
      for (const lane of round) {
        const { id } = notificationAt(lane);
        const left = result.left.get(id);
        progress.set(lane, left ? { done: depth, left } : { done: depth + 1 });
        if (!left && !result.retrying.has(id) && depth + 1 < lane.length) next.push(lane);
      }
      round = next;
    }
  });
  return progress;
}

/** Accounts per fast-path chunk, and chunks in flight at once. */
const FAST_CHUNK = 200;
const FAST_CHUNKS_AT_ONCE = 4;

/** Accounts whose notifications one notify batch dispatches at once. */
export const NOTIFY_CONCURRENCY = 64;

export interface NotifyBatchResult {
  /** Sequence numbers to retry from (Lambda's partial batch response; the lowest one counts). */
  failed: string[];
  dispatched: number;
  poison: { sequenceNumber: string; error: string }[];
}

export type NotifyEntry =
  | { sequenceNumber: string; kind: "notification"; notification: NotificationRecord }
  | { sequenceNumber: string; kind: "other" }
  | { sequenceNumber: string; kind: "poison"; error: string };

/**
 * A batch of stream records for the notify handler. Records of one account are dispatched in
 * order (its lane then keeps deliveries in that order); accounts run concurrently. A poison record
 * is reported and skipped; a record whose dispatch fails (the store, not the receiver: receiver
 * failures are retried by the schedule) fails with every later record of its account, so the
 * stream retries them in order.
 */
export async function notifyBatch(
  deps: WebhookDeps,
  entries: readonly NotifyEntry[],
): Promise<NotifyBatchResult> {
  const lanes = new Map<string, NotificationEntry[]>();
  const poison: NotifyBatchResult["poison"] = [];
  for (const entry of entries) {
    if (entry.kind === "poison") poison.push({ sequenceNumber: entry.sequenceNumber, error: entry.error });
    if (entry.kind !== "notification") continue;
    const lane = entry.notification.accountId ?? `report:${entry.notification.id}`;
    lanes.set(lane, [...(lanes.get(lane) ?? []), entry]);
  }
  const failed: string[] = [];
  const sent: NotificationEntry[] = [];
  let dispatched = 0;
  const endpointsOf = endpointsByVenue(deps);
  const progress = await dispatchInRounds(deps, [...lanes.values()], endpointsOf);
  // What the fast path left, one by one: a bounded number of accounts at once, so that a batch of
  // a thousand records does not put a thousand requests in the store's queue ahead of the ticks'.
  await forEachConcurrently([...lanes.values()], NOTIFY_CONCURRENCY, async (lane) => {
    const fast = progress.get(lane) ?? { done: 0 };
    for (const [i, entry] of lane.entries()) {
      try {
        if (i >= fast.done)
          await dispatchNotification(
            deps,
            entry.notification,
            i === fast.done && fast.left ? fast.left : await endpointsOf(entry.notification.venue),
          );
        dispatched++;
        sent.push(entry);
      } catch {
        failed.push(...lane.slice(i).map((e) => e.sequenceNumber));
        return;
      }
    }
  });
  if (deps.topic && sent.length > 0) {
    try {
      await deps.topic.publish(sent.map((entry) => topicMessage(entry.notification)));
    } catch {
      // Retried with the record: dispatch is idempotent per (notification, endpoint).
      failed.push(...sent.map((entry) => entry.sequenceNumber));
    }
  }
  return { failed, dispatched, poison };
}

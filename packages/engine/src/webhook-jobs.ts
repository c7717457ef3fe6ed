import { randomBytes } from "node:crypto";
import { NotificationType } from "@backing/contracts";
import {
  type AttemptOutcome,
  attemptWebhook,
  checkEndpointUrl,
  type DeliveryEnvironment,
  generateSecret,
  nextAttemptAt,
  resolvePinned,
} from "@backing/webhooks";
import { forEachConcurrently } from "./concurrency.ts";
import {
  type DeliveryRecord,
  deliveryKey,
  type NotificationRecord,
  type WebhookEndpoint,
  type WebhookStore,
} from "./ports/index.ts";

export interface WebhookDeps {
  store: WebhookStore;
  now: () => number;
  delivery: DeliveryEnvironment;
  /** Called after every recorded attempt (metrics, logs, the demo's counters). */
  onAttempt?: (delivery: DeliveryRecord, outcome: AttemptOutcome) => void;
  /** The operators' topic (SNS `MarginNotifications` in AWS, a file sink locally); absent: not published. */
  topic?: NotificationTopic;
}

/**
 * One message per notification on the operators' topic, with the attributes subscribers filter on
 * (`venue`, `type`, `status`). At least once: a retried stream record publishes again, with the
 * same `id` for subscribers to drop duplicates.
 */
export interface TopicMessage {
  id: string;
  attributes: { venue: string; type: string; status: string };
  body: string;
}

export interface NotificationTopic {
  publish(messages: readonly TopicMessage[]): Promise<void>;
}

/** Report notifications have no account status: their attribute is `REPORT`. */
export function topicMessage(notification: NotificationRecord): TopicMessage {
  const { payload } = notification;
  return {
    id: notification.id,
    attributes: {
      venue: notification.venue,
      type: notification.type,
      status: "status" in payload.data ? payload.data.status : "REPORT",
    },
    body: notificationBody(notification),
  };
}

export const WEBHOOK_TYPES: readonly string[] = NotificationType.options;
/** A rotated-out secret keeps signing (next to the new one) this long by default. */
export const DEFAULT_ROTATION_OVERLAP_MS = 24 * 3_600_000;

/** Bad endpoint registration input: the URL is refused or the types are unknown. */
export class EndpointInputError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EndpointInputError";
  }
}

/** The exact bytes that are signed and sent: the payload `{ type, timestamp, data }`, minified. */
export const notificationBody = (notification: NotificationRecord) => JSON.stringify(notification.payload);

const activeSecrets = (endpoint: WebhookEndpoint, nowMs: number) =>
  endpoint.secrets.filter((s) => s.expiresAtMs === null || s.expiresAtMs > nowMs).map((s) => s.secret);

/**
 * Registers an endpoint for a venue: the URL passes the SSRF guard now (and again at every
 * connect), a `whsec_` secret is generated, the types must be known notification types.
 */
export async function registerEndpoint(
  deps: Pick<WebhookDeps, "store" | "now" | "delivery">,
  input: { venue: string; url: string; types: string[] },
): Promise<WebhookEndpoint> {
  const unknown = input.types.filter((t) => !WEBHOOK_TYPES.includes(t));
  if (input.types.length === 0 || unknown.length > 0)
    throw new EndpointInputError(
      `types must be some of ${WEBHOOK_TYPES.join(", ")}${unknown.length ? ` (unknown: ${unknown.join(", ")})` : ""}`,
    );
  try {
    const url = checkEndpointUrl(input.url, deps.delivery.guard);
    await resolvePinned(url, deps.delivery.resolver, deps.delivery.guard);
  } catch (error) {
    throw new EndpointInputError(`endpoint refused: ${(error as Error).message}`, { cause: error });
  }
  const endpoint: WebhookEndpoint = {
    id: `ep_${randomBytes(12).toString("hex")}`,
    venue: input.venue,
    url: input.url,
    types: [...new Set(input.types)],
    secrets: [{ secret: generateSecret(), expiresAtMs: null }],
    enabled: true,
    createdAtMs: deps.now(),
  };
  await deps.store.putEndpoint(endpoint);
  return endpoint;
}

/** A new secret signs from now on; the old ones keep signing alongside it for `overlapMs`. */
export async function rotateSecret(
  deps: Pick<WebhookDeps, "store" | "now">,
  venue: string,
  endpointId: string,
  overlapMs = DEFAULT_ROTATION_OVERLAP_MS,
): Promise<WebhookEndpoint> {
  const endpoint = (await deps.store.listEndpoints(venue)).find((e) => e.id === endpointId);
  if (!endpoint) throw new EndpointInputError(`no endpoint ${endpointId} for venue ${venue}`);
  const nowMs = deps.now();
  const rotated: WebhookEndpoint = {
    ...endpoint,
    secrets: [
      { secret: generateSecret(), expiresAtMs: null },
      ...endpoint.secrets
        .filter((s) => s.expiresAtMs === null || s.expiresAtMs > nowMs)
        .map((s) => ({ secret: s.secret, expiresAtMs: s.expiresAtMs ?? nowMs + overlapMs })),
    ],
  };
  await deps.store.putEndpoint(rotated);
  return rotated;
}

/** The venue's endpoints that take this notification: enabled and subscribed to its type. */
const subscribedTo = (notification: NotificationRecord, endpoints: readonly WebhookEndpoint[]) =>
  endpoints.filter((e) => e.enabled && e.types.includes(notification.type));

/**
 * A delivery as first written: at the head of its lane it is born pending under this worker's
 * lease (it sends at once; the cron only if the worker dies), behind others it waits queued.
 */
function newDelivery(
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
  // Join the account's lane first: the delivery is born pending if it is the lane's head.
  const fresh = await Promise.all(
    endpoints.map(async (endpoint): Promise<DeliveryRecord> => {
      const lane = notification.accountId
        ? await deps.store.joinLane(endpoint.id, notification.accountId, notification.id)
        : [notification.id];
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

/**
 * Moves one delivery on: a queued one joins its account's lane and is attempted when it is the
 * lane's head; a pending one is attempted when it is due. Either way it is claimed first. Returns
 * the number of attempts made (including those of deliveries it promoted).
 */
async function advance(
  deps: WebhookDeps,
  delivery: DeliveryRecord,
  known: { notification?: NotificationRecord; endpoint?: WebhookEndpoint } = {},
): Promise<number> {
  const nowMs = deps.now();
  if (delivery.status === "queued" && delivery.accountId) {
    const lane = await deps.store.joinLane(delivery.endpointId, delivery.accountId, delivery.notificationId);
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

/** An attempt's lease: the request timeout and a margin. */
const leaseMs = (deps: WebhookDeps) => deps.delivery.timeoutMs + 5_000;

/** One attempt of a claimed delivery, recorded (see recordAttempt). Returns the attempts made. */
export async function attemptDelivery(
  deps: WebhookDeps,
  delivery: DeliveryRecord,
  known: { notification?: NotificationRecord; endpoint?: WebhookEndpoint } = {},
): Promise<number> {
  const endpoint =
    known.endpoint ??
    (await deps.store.listEndpoints(delivery.venue)).find((e) => e.id === delivery.endpointId);
  const notification = known.notification ?? (await deps.store.getNotification(delivery.notificationId));
  const sent = await send(deps, delivery, notification, endpoint);
  return recordAttempt(deps, delivery, sent);
}

/** One attempt's outcome and the delivery record that reflects it (not yet written). */
interface SentAttempt {
  outcome: AttemptOutcome;
  updated: DeliveryRecord;
  endpoint: WebhookEndpoint | undefined;
}

/** Sends one claimed delivery and works out its next state: delivered, retried later, or parked. */
async function send(
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

const isFinal = (delivery: DeliveryRecord) => delivery.status === "delivered" || delivery.status === "failed";

/**
 * Records an attempt conditionally on the claimed version (were the lease to run out mid-attempt
 * and another worker to send it too, the receiver sees the message twice with the same id: at
 * least once). Final outcomes (delivered, or parked after the last attempt or on 410) release the
 * account's lane, and the next notification of the lane is sent at once.
 */
async function recordAttempt(
  deps: WebhookDeps,
  delivery: DeliveryRecord,
  sent: SentAttempt,
): Promise<number> {
  const { updated } = sent;
  if (!(await deps.store.updateDelivery(updated, delivery.version))) return 1;
  return 1 + (await afterRecorded(deps, sent, { laneLeft: false }));
}

/** What follows a recorded attempt: the callback, a 410's endpoint disabled, the lane moved on. */
async function afterRecorded(deps: WebhookDeps, sent: SentAttempt, { laneLeft }: { laneLeft: boolean }) {
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
async function releaseLane(deps: WebhookDeps, done: DeliveryRecord): Promise<number> {
  const [head] = await deps.store.leaveLane(done.endpointId, done.accountId as string, done.notificationId);
  if (!head) return 0;
  // The next one's dispatcher may have joined the lane and not yet written its delivery: then
  // it finds itself at the head when it has, and sends it itself (dispatchNotification).
  const waiting = (await deps.store.getDeliveries(head)).find((d) => d.endpointId === done.endpointId);
  return waiting ? advance(deps, waiting) : 0;
}

/** Deliveries the fast path of notifyBatch sends at once. */
const SEND_CONCURRENCY = 32;

interface FreeDispatch {
  /** Per notification, the endpoints left to `dispatchNotification`: a busy lane, a replay. */
  left: Map<string, WebhookEndpoint[]>;
  /** Notifications with a delivery to retry: their lane now holds the account's later ones. */
  retrying: Set<string>;
}

/**
 * notifyBatch's fast path, for notifications whose account has no lane to the endpoint (the usual
 * case): send first, then write once. One consistent batch read finds the lanes that hold a
 * notification and the deliveries that exist already (a replayed record); those are left to
 * `dispatchNotification`. The rest are sent at once. Final deliveries (delivered, or parked on a
 * 410) are written in batches; one to retry is written with its lane, which then holds the
 * account's later notifications behind it (a lane exists only while a delivery is unfinished).
 * A crash before the writes leaves nothing written: the stream hands the record over again and
 * it is sent again with the same `webhook-id`, at least once.
 */
async function dispatchFree(
  deps: WebhookDeps,
  notifications: readonly NotificationRecord[],
  endpointsOf: (venue: string) => Promise<WebhookEndpoint[]>,
): Promise<FreeDispatch> {
  const nowMs = deps.now();
  const candidates: {
    record: DeliveryRecord;
    notification: NotificationRecord;
    endpoint: WebhookEndpoint;
  }[] = [];
  for (const notification of notifications)
    for (const endpoint of subscribedTo(notification, await endpointsOf(notification.venue)))
      candidates.push({
        notification,
        endpoint,
        record: newDelivery(deps, notification, endpoint, { head: true, nowMs }),
      });
  const busy =
    candidates.length > 0 ? await deps.store.busyDeliveries(candidates.map((c) => c.record)) : new Set();
  const left = new Map<string, WebhookEndpoint[]>();
  const free = candidates.filter(({ record, notification, endpoint }) => {
    if (!busy.has(deliveryKey(record))) return true;
    left.set(notification.id, [...(left.get(notification.id) ?? []), endpoint]);
    return false;
  });
  const sent: SentAttempt[] = [];
  await forEachConcurrently(free, SEND_CONCURRENCY, async ({ record, notification, endpoint }) => {
    sent.push(await send(deps, record, notification, endpoint));
  });
  const retry = sent.filter(({ updated }) => !isFinal(updated)).map(({ updated }) => updated);
  await deps.store.recordDeliveries(
    sent.filter(({ updated }) => isFinal(updated)).map(({ updated }) => updated),
  );
  const refused = retry.length > 0 ? await deps.store.openLanes(retry) : new Set<string>();
  for (const record of retry) if (refused.has(deliveryKey(record))) await queueInLane(deps, record);
  for (const attempt of sent) await afterRecorded(deps, attempt, { laneLeft: true });
  return { left, retrying: new Set(retry.map((record) => record.notificationId)) };
}

/**
 * A delivery to retry whose lane was taken meanwhile (or that a replay wrote first): it joins the
 * lane and is written pending if it heads it, queued if not. One already finished leaves again.
 */
async function queueInLane(deps: WebhookDeps, record: DeliveryRecord): Promise<void> {
  const lane = await deps.store.joinLane(
    record.endpointId,
    record.accountId as string,
    record.notificationId,
  );
  const head = lane[0] === record.notificationId;
  const [stored] = await deps.store.ensureDeliveries([
    head ? record : { ...record, status: "queued", nextAttemptAtMs: null },
  ]);
  if (stored && !stored.created && isFinal(stored.record)) await releaseLane(deps, stored.record);
}

type NotificationEntry = Extract<NotifyEntry, { kind: "notification" }>;

/** How far the fast path took an account's notifications in a batch, and what it left of the next. */
interface FastProgress {
  done: number;
  left?: WebhookEndpoint[];
}

/**
 * The fast path in rounds: every account's first notification in the first round, its second in
 * the next, and so on while the earlier ones finished there. If the store fails, the rest goes
 * one by one (every step is idempotent).
 */
async function dispatchInRounds(
  deps: WebhookDeps,
  lanes: readonly NotificationEntry[][],
  endpointsOf: (venue: string) => Promise<WebhookEndpoint[]>,
): Promise<Map<NotificationEntry[], FastProgress>> {
  const progress = new Map<NotificationEntry[], FastProgress>();
  let round = lanes.filter((lane) => lane[0]?.notification.accountId);
  for (let depth = 0; round.length > 0; depth++) {
    const notificationAt = (lane: NotificationEntry[]) => (lane[depth] as NotificationEntry).notification;
    let result: FreeDispatch;
    try {
      result = await dispatchFree(deps, round.map(notificationAt), endpointsOf);
    } catch {
      return progress;
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
  return progress;
}

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
  let next = 0;
  const worker = async () => {
    while (next < due.length) {
      const delivery = due[next++] as DeliveryRecord;
      attempted += await advance(deps, delivery);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker));
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

/** Accounts whose notifications one notify batch dispatches at once. */
export const NOTIFY_CONCURRENCY = 64;

export interface NotifyBatchResult {
  /** Sequence numbers to retry from (Lambda's partial batch response; the lowest one counts). */
  failed: string[];
  dispatched: number;
  poison: { sequenceNumber: string; error: string }[];
}

type NotifyEntry =
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
  // One read of a venue's endpoints per batch.
  const endpoints = new Map<string, Promise<WebhookEndpoint[]>>();
  const endpointsOf = (venue: string) => {
    let list = endpoints.get(venue);
    if (!list) {
      list = deps.store.listEndpoints(venue);
      endpoints.set(venue, list);
    }
    return list;
  };
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

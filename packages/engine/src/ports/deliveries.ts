export type DeliveryStatus = "queued" | "pending" | "delivered" | "failed";

export interface DeliveryAttempt {
  atMs: number;
  result: "delivered" | "failed" | "gone" | "throttled";
  status?: number;
  error?: string;
}

/** One notification's delivery to one endpoint: its attempts and what happens next. */
export interface DeliveryRecord {
  notificationId: string;
  endpointId: string;
  venue: string;
  /** Deliveries of one account to one endpoint go in notification order (null: report notifications). */
  accountId: string | null;
  /**
   * queued: waits behind an earlier notification of the account; pending: due at nextAttemptAtMs
   * (while an attempt is in flight, that is its lease's end: a worker that dies mid-attempt leaves
   * it to the redeliver job then).
   */
  status: DeliveryStatus;
  attempts: DeliveryAttempt[];
  /** Index into `attempts` where the current round began (a replay of a parked delivery starts a new one). */
  roundStart: number;
  nextAttemptAtMs: number | null;
  /** When the notification entered the outbox. */
  createdAtMs: number;
  deliveredAtMs: number | null;
  /** Optimistic concurrency: every write is conditional on the version read. */
  version: number;
  /** The notification's `sequence`: its place in its account's lane. */
  sequence?: number;
}

/** A delivery about to be sent, and the notification of its account it must follow (null: none). */
export interface DeliveryCandidate {
  record: DeliveryRecord;
  after: string | null;
}

/** A delivery's key among many: its notification and endpoint. */
export const deliveryKey = (delivery: Pick<DeliveryRecord, "notificationId" | "endpointId">) =>
  `${delivery.notificationId}/${delivery.endpointId}`;

/** Each notification's deliveries, one per endpoint: their attempts and what happens next. */
export interface DeliveryRepository {
  /**
   * Creates the deliveries that do not exist yet (idempotent); returns each as stored, and whether
   * this call created it (its creator holds its first attempt's lease).
   */
  ensureDeliveries(records: DeliveryRecord[]): Promise<{ record: DeliveryRecord; created: boolean }[]>;
  getDeliveries(notificationId: string): Promise<DeliveryRecord[]>;
  /** Conditional on `expectedVersion`; false when someone else wrote it first. */
  updateDelivery(record: DeliveryRecord, expectedVersion: number): Promise<boolean>;
  /** Pending deliveries due at or before `nowMs`, earliest first. */
  dueDeliveries(nowMs: number, limit: number): Promise<DeliveryRecord[]>;
  failedDeliveries(): Promise<DeliveryRecord[]>;
  /**
   * Of these deliveries (not yet written), the keys (`deliveryKey`) of those that cannot be sent
   * at once: their account's lane to the endpoint holds a notification, the delivery exists
   * already (a replayed record), or the delivery of the notification it waits for (`after`, to
   * the same endpoint) is missing or unfinished. A consistent read, no write.
   */
  busyDeliveries(candidates: readonly DeliveryCandidate[]): Promise<Set<string>>;
  /**
   * Deliveries written in batches, unconditionally: their sender saw with `busyDeliveries` that
   * none existed and that no lane held their account.
   */
  recordDeliveries(records: readonly DeliveryRecord[]): Promise<void>;
}

/**
 * The lanes that keep one account's deliveries to one endpoint in notification order. A lane
 * exists only while one of its deliveries is unfinished. Its head holds a lease: a head whose
 * lease ran out is looked at by the redeliver job (`recoverLanes`), so a worker that died between
 * joining a lane and writing its delivery, or between finishing a delivery and leaving its lane,
 * cannot hold the account's later notifications for good.
 */
export interface LaneRepository {
  /**
   * The ordered lane of one account's notifications to one endpoint. `join` adds the notification
   * (idempotent) in `sequence` order (none: at the end) and returns the lane; a notification that
   * becomes the head gets a lease until `leaseUntilMs`. `leave` removes it and returns the lane after; a new head's lease runs until
   * `leaseUntilMs`.
   */
  joinLane(endpointId: string, accountId: string, entry: LaneEntry, leaseUntilMs: number): Promise<string[]>;
  leaveLane(
    endpointId: string,
    accountId: string,
    notificationId: string,
    leaseUntilMs: number,
  ): Promise<string[]>;
  /**
   * Deliveries whose first attempt failed, each written with its lane, all-or-nothing: the lane
   * becomes `[its notification]` if it is empty (so the account's later notifications wait behind
   * it), with a lease until the delivery's next attempt plus `leaseMs`, and the delivery is created
   * if it does not exist. Returns the keys (`deliveryKey`) of those it did not write: a busy lane,
   * an existing delivery or a conflict.
   */
  openLanes(records: readonly DeliveryRecord[], leaseMs: number): Promise<Set<string>>;
  /** Lanes whose head's lease ended at or before `nowMs`, earliest first. */
  expiredLanes(nowMs: number, limit: number): Promise<LaneHead[]>;
  /** A new lease for the lane's head, if `head` still is; false otherwise. */
  renewLane(lane: LaneHead, leaseUntilMs: number): Promise<boolean>;
}

/** A notification joining a lane, and its place in the account's order. */
export interface LaneEntry {
  notificationId: string;
  sequence?: number;
}

/** A delivery's entry in its account's lane. */
export const laneEntryOf = (d: Pick<DeliveryRecord, "notificationId" | "sequence">): LaneEntry =>
  d.sequence === undefined
    ? { notificationId: d.notificationId }
    : { notificationId: d.notificationId, sequence: d.sequence };

/**
 * A lane with `entry` in its place: before the first entry of a higher sequence, else at the end
 * (an entry without a sequence goes at the end); null if it is in the lane already.
 */
export function laneWith(queue: readonly LaneEntry[], entry: LaneEntry): LaneEntry[] | null {
  if (queue.some((e) => e.notificationId === entry.notificationId)) return null;
  const after = (e: LaneEntry) =>
    entry.sequence !== undefined && (e.sequence === undefined || e.sequence > entry.sequence);
  const at = queue.findIndex(after);
  return at < 0 ? [...queue, entry] : [...queue.slice(0, at), entry, ...queue.slice(at)];
}

export interface LaneHead {
  endpointId: string;
  accountId: string;
  head: string;
  leaseUntilMs: number;
}

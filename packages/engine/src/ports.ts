import type {
  Account,
  MarginNotificationPayload,
  ReportNotificationPayload,
  RiskParamsDocument,
} from "@backing/contracts";
import type { AccountStatus, Episode, NotificationType } from "@backing/core";

/** The last accepted (or held) price of an asset; decimals as strings, as stored. */
export interface StoredPrice {
  asset: string;
  index: string;
  mark: string;
  timestampMs: number;
  sequence: number | null;
  source: string;
  eventId: string;
}

export interface PriceRecord {
  latest: StoredPrice | null;
  /** A jump larger than maxJump waiting for confirmation. */
  held: StoredPrice | null;
}

export interface StoredAccount {
  account: Account;
  version: number;
}

/** What the engine remembers of an account between evaluations. */
export interface StoredRiskState {
  accountId: string;
  venue: string;
  status: AccountStatus;
  episode: Episode | null;
  equity: string;
  initialMargin: string;
  maintenanceMargin: string;
  callAmount: string;
  paramsVersion: string;
  snapshotId: string;
  evaluatedAtMs: number;
  /** The sum of the evaluated snapshot's price times: orders evaluations (absent on older states). */
  snapshotOrder?: number;
  /** Optimistic concurrency: every write is conditional on the version it read. */
  version: number;
  /** Everything the evaluation behind these figures read, so `backing explain` can re-run it exactly. */
  evidence?: EvaluationEvidence;
}

/**
 * The inputs of one stored evaluation: the account document as it was, the prices and implied vols
 * of its snapshot, the params version and the status it moved from (hysteresis depends on it).
 */
export interface EvaluationEvidence {
  asOf: string;
  account: Account;
  prices: Record<string, { index: string; mark: string }>;
  volatility: Record<string, string>;
  paramsVersion: string;
  previousStatus: AccountStatus;
}

export interface NotificationRecord {
  /** Stable across retries: derived from the account, the state version it belongs to and its type. */
  id: string;
  type: NotificationType | ReportNotificationPayload["type"];
  venue: string;
  /** Null for report notifications. */
  accountId: string | null;
  episodeId: string | null;
  createdAtMs: number;
  payload: MarginNotificationPayload | ReportNotificationPayload;
  /** Margin notifications: the evaluation behind the payload's figures (kept in the table, never sent). */
  evidence?: EvaluationEvidence;
}

/** A stored report's summary (the full report lives in the ReportStore). */
export interface ReportSummary {
  kind: "stress" | "exposure";
  id: string;
  asOf: string;
  createdAtMs: number;
  location: string;
  summary: Record<string, unknown>;
}

/**
 * Where full reports go: S3 in AWS, a folder locally. Written as a stream of chunks: one object
 * `<kind>/<id>.json`, or, given a file name, one of several files `<kind>/<id>/<name>`.
 */
export interface ReportStore {
  write(
    kind: ReportSummary["kind"],
    id: string,
    chunks: AsyncIterable<string> | Iterable<string>,
    name?: string,
  ): Promise<string>;
  /** A file written with a name, or null when there is none. */
  read(kind: ReportSummary["kind"], id: string, name?: string): Promise<string | null>;
}

export interface PriceSnapshot {
  id: string;
  prices: Record<string, { index: string; mark: string; timestampMs: number }>;
}

/** An account's trigger band on one asset, decimals as strings; null edges: re-evaluate on any move. */
/** A trigger band as decimal strings: null for no band, "0" and "Infinity" for no edge that way. */
export interface StoredBand {
  accountId: string;
  asset: string;
  low: string | null;
  high: string | null;
}

/** A status transition and its notifications: written atomically (the transactional outbox). */
export interface StateWrite {
  state: StoredRiskState;
  /** The state read (the write is conditional on its version); null when there was none. */
  previous: StoredRiskState | null;
  notifications: NotificationRecord[];
}

export type PriceWriteResult = "applied" | "duplicate" | "conflict";

/** The persistence the jobs need; implemented over DynamoDB by @backing/dynamo. */
export interface EngineStore {
  putAccounts(accounts: Account[]): Promise<void>;
  getAccounts(ids: readonly string[]): Promise<Map<string, StoredAccount>>;
  exposedAccountIds(asset: string): Promise<string[]>;
  getRiskStates(ids: readonly string[]): Promise<Map<string, StoredRiskState>>;
  /** Writes these trigger bands (DESIGN §3.7) into the index, as they are. */
  putBands(bands: readonly StoredBand[]): Promise<void>;
  /** The stored bands of these accounts on these assets (as indexed: rounded toward the inside). */
  getBands(
    accounts: readonly { accountId: string; assets: readonly string[] }[],
  ): Promise<Map<string, StoredBand[]>>;
  /**
   * Accounts whose band on `asset` no longer holds a new price whose index and mark span
   * [lowest, highest]: a range query on each edge, per shard.
   */
  triggeredAccountIds(asset: string, lowest: string, highest: string): Promise<string[]>;
  /** Of these accounts, those with no band on one of their assets (never evaluated, or held). */
  unbandedAccountIds(accounts: readonly Account[]): Promise<Set<string>>;
  /**
   * Every account with a "no band" entry on one of these assets, or null when there are more
   * than `limit` entries (then ask page by page). A snapshot: only efficiency depends on it being
   * current, since an unbanded entry is recomputed on every move anyway.
   */
  allUnbandedAccountIds(assets: readonly string[], limit: number): Promise<Set<string> | null>;
  getPrices(): Promise<Map<string, PriceRecord>>;
  /**
   * For each update (at most one per asset), records `update.eventId` as seen and, atomically,
   * makes `update` the asset's latest price ("accept") or its held price ("hold"), conditional on
   * the record still being `previous`. Each is all-or-nothing on its own; the store may send them
   * together. Results in the order given.
   */
  applyPriceUpdates(updates: readonly PriceUpdateWrite[]): Promise<PriceWriteResult[]>;
  putSnapshot(snapshot: PriceSnapshot): Promise<void>;
  /** Throws VersionConflictError when the state moved since it was read. */
  writeState(write: StateWrite): Promise<void>;
  /**
   * Many accounts' writes, each all-or-nothing, in few requests. Returns the accounts not written
   * because their state moved since it was read (or another writer held it): re-read and retry them.
   */
  writeStates(writes: readonly StateWrite[]): Promise<Set<string>>;
  /** Accounts whose open episode's deadline is at or before `nowMs` and not yet expired. */
  dueEpisodes(nowMs: number): Promise<string[]>;
  getParams(): Promise<RiskParamsDocument | null>;
  /** A params set as it was under a version (every set put is kept by version). */
  getParamsVersion(version: string): Promise<RiskParamsDocument | null>;
  putParams(document: RiskParamsDocument): Promise<void>;
  listNotifications(): Promise<NotificationRecord[]>;
  /** Every stored account, a page at a time (bounded memory for whole-book jobs). */
  scanAccounts(pageSize: number): AsyncIterable<Account[]>;
  /**
   * Every stored account with its risk state (if it has one), a page of accounts at a time; with a
   * segment, only that share of the book (segments `0..count-1` together cover it once).
   */
  scanBook(pageSize: number, segment?: { index: number; count: number }): AsyncIterable<BookPage>;
  putReportSummary(summary: ReportSummary): Promise<void>;
  /** The most recent stored report summary of a kind (by creation time), or null. */
  latestReportSummary(kind: ReportSummary["kind"]): Promise<ReportSummary | null>;
  /** Outbox items that belong to no state transition (report notifications); idempotent on id. */
  putNotifications(records: NotificationRecord[]): Promise<void>;
}

export interface BookPage {
  accounts: Account[];
  states: Map<string, StoredRiskState>;
}

/** A state write lost a race: someone else wrote the account's state first. Re-read and redo. */
export class VersionConflictError extends Error {
  constructor(
    readonly accountId: string,
    options?: { cause?: unknown },
  ) {
    super(`risk state of ${accountId} changed concurrently`, options);
    this.name = "VersionConflictError";
  }
}

/** A venue's webhook endpoint (DESIGN §5): where, for which types, signed with which secrets. */
export interface WebhookEndpoint {
  id: string;
  venue: string;
  url: string;
  /** Notification types delivered to this endpoint. */
  types: string[];
  /** Signing secrets, current first; a rotated-out secret keeps signing until `expiresAtMs`. */
  secrets: { secret: string; expiresAtMs: number | null }[];
  enabled: boolean;
  disabledReason?: string;
  createdAtMs: number;
}

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
}

/** What webhook delivery needs from the table. */
/** One price event's write: the update, what it does, and the record it was decided against. */
export interface PriceUpdateWrite {
  update: StoredPrice;
  action: "accept" | "hold";
  previous: PriceRecord;
}

export interface WebhookStore {
  putEndpoint(endpoint: WebhookEndpoint): Promise<void>;
  listEndpoints(venue?: string): Promise<WebhookEndpoint[]>;
  getNotification(id: string): Promise<NotificationRecord | null>;
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
   * The ordered lane of one account's notifications to one endpoint. `join` adds the notification
   * (idempotent) and returns the lane; `leave` removes it and returns the lane after.
   */
  joinLane(endpointId: string, accountId: string, notificationId: string): Promise<string[]>;
  leaveLane(endpointId: string, accountId: string, notificationId: string): Promise<string[]>;
  /**
   * Deliveries whose first attempt failed, each written with its lane, all-or-nothing: the lane
   * becomes `[its notification]` if it is empty (so the account's later notifications wait behind
   * it), and the delivery is created if it does not exist. Returns the keys (`deliveryKey`) of
   * those it did not write: a busy lane, an existing delivery or a conflict.
   */
  openLanes(records: readonly DeliveryRecord[]): Promise<Set<string>>;
  /**
   * Of these deliveries (not yet written), the keys (`deliveryKey`) of those that cannot be sent
   * at once: their account's lane to the endpoint holds a notification, or the delivery exists
   * already (a replayed record). A consistent read, no write.
   */
  busyDeliveries(records: readonly DeliveryRecord[]): Promise<Set<string>>;
  /**
   * Final deliveries (delivered, or parked) written in batches, unconditionally: their sender saw
   * with `busyDeliveries` that none existed and that no lane held their account.
   */
  recordDeliveries(records: readonly DeliveryRecord[]): Promise<void>;
}

/** A delivery's key among many: its notification and endpoint. */
export const deliveryKey = (delivery: Pick<DeliveryRecord, "notificationId" | "endpointId">) =>
  `${delivery.notificationId}/${delivery.endpointId}`;

/** The assets whose price can move an account: its positions' underlyings and its collateral assets. */
export function exposureAssets(account: Account): string[] {
  return [...new Set([...account.positions.map((p) => p.underlying), ...Object.keys(account.collateral)])];
}

/**
 * An API key as stored: the SHA-256 of its secret (the secret is shown once, at creation), whose
 * it is (a venue, or null for an operator's admin key) and a label.
 */
export interface ApiKeyRecord {
  hash: string;
  venue: string | null;
  label: string;
  createdAtMs: number;
}

/** What the HTTP API needs beyond the engine and webhook stores. */
export interface ApiStore {
  putApiKey(key: ApiKeyRecord): Promise<void>;
  getApiKey(hash: string): Promise<ApiKeyRecord | null>;
  deleteAccount(account: Account): Promise<void>;
  /** Removes an account's exposure entries (and bands) on assets it no longer holds. */
  dropExposure(accountId: string, assets: readonly string[]): Promise<void>;
  deleteEndpoint(venue: string, id: string): Promise<void>;
  venueNotifications(
    venue: string,
    options: { limit: number; before?: string },
  ): Promise<{ notifications: NotificationRecord[]; next: string | null }>;
}

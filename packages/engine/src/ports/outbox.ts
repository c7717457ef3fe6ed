import type {
  Account,
  MarginNotificationPayload,
  ReportNotificationPayload,
  UnwatchedNotificationPayload,
} from "@backing/contracts";
import type { AccountStatus, NotificationType } from "@backing/core";

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
  /** The cumulative funding of the account's venue the evaluation settled its perps against. */
  cumulativeFunding?: Record<string, string>;
}

export interface NotificationRecord {
  /** Stable across retries: derived from the account, the state version it belongs to and its type. */
  id: string;
  type: NotificationType | ReportNotificationPayload["type"] | UnwatchedNotificationPayload["type"];
  venue: string;
  /** Null for report notifications. */
  accountId: string | null;
  episodeId: string | null;
  createdAtMs: number;
  payload: MarginNotificationPayload | ReportNotificationPayload | UnwatchedNotificationPayload;
  /** Margin notifications: the evaluation behind the payload's figures (kept in the table, never sent). */
  evidence?: EvaluationEvidence;
  /**
   * Margin notifications: the account's earlier ones, the latest of each type, newest first. An
   * endpoint's delivery waits for the first of these the endpoint takes (`precedingFor`), so one
   * account's notifications reach it in order even when two workers hold them at once.
   */
  preceding?: PrecedingNotification[];
  /** Margin notifications: increases with every one the account gets (a lane keeps them in this order). */
  sequence?: number;
}

export interface PrecedingNotification {
  id: string;
  type: string;
  createdAtMs: number;
  sequence?: number;
}

/** The notifications: written with the state transitions they report (or alone, for reports). */
export interface Outbox {
  /** Outbox items that belong to no state transition (report notifications); idempotent on id. */
  putNotifications(records: NotificationRecord[]): Promise<void>;
  getNotification(id: string): Promise<NotificationRecord | null>;
  listNotifications(): Promise<NotificationRecord[]>;
  /** A venue's notifications, newest first, a page at a time. */
  venueNotifications(
    venue: string,
    options: { limit: number; before?: string },
  ): Promise<{ notifications: NotificationRecord[]; next: string | null }>;
}

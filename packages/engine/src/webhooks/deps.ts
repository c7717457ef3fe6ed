/** What webhook delivery runs on (the store, the clock, the HTTP client, the operators' topic) and the bytes it sends. */
import type { AttemptOutcome, DeliveryEnvironment } from "@backing/webhooks";
import type { DeliveryRecord, NotificationRecord, WebhookStore } from "../ports/index.ts";

export interface WebhookDeps {
  store: WebhookStore;
  now: () => number;
  delivery: DeliveryEnvironment;
  /** Called after every recorded attempt (metrics, logs, the demo's counters). */
  onAttempt?: (delivery: DeliveryRecord, outcome: AttemptOutcome) => void;
  /** The operators' topic (SNS `MarginNotifications` in AWS, a file sink locally); absent: not published. */
  topic?: NotificationTopic;
  /** How long a notify batch waits for an attempt before it goes on without it (`INLINE_BUDGET_MS`). */
  inlineBudgetMs?: number;
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

/** Only margin notifications carry an account status: a report's attribute is `REPORT`, an unwatched account's `UNWATCHED`. */
export function topicMessage(notification: NotificationRecord): TopicMessage {
  const { payload } = notification;
  return {
    id: notification.id,
    attributes: {
      venue: notification.venue,
      type: notification.type,
      status:
        "status" in payload.data
          ? payload.data.status
          : payload.type === "account.unwatched"
            ? "UNWATCHED"
            : "REPORT",
    },
    body: notificationBody(notification),
  };
}

/** The exact bytes that are signed and sent: the payload `{ type, timestamp, data }`, minified. */
export const notificationBody = (notification: NotificationRecord) => JSON.stringify(notification.payload);

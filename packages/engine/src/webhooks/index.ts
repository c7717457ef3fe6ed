export { attemptDelivery } from "./attempt.ts";
export type { NotificationTopic, TopicMessage, WebhookDeps } from "./deps.ts";
export { notificationBody, topicMessage } from "./deps.ts";
export type { DispatchResult } from "./dispatch.ts";
export { dispatchNotification } from "./dispatch.ts";
export {
  EndpointGate,
  endpointGate,
  INLINE_BUDGET_MS,
  PER_ENDPOINT_SENDS,
  SLOW_FOR_MS,
} from "./endpoint-gate.ts";
export {
  changeEndpoint,
  DEFAULT_ROTATION_OVERLAP_MS,
  registerEndpoint,
  rotateSecret,
  WEBHOOK_TYPES,
} from "./endpoints.ts";
export type { NotifyBatchResult, NotifyEntry } from "./notify-batch.ts";
export { NOTIFY_CONCURRENCY, notifyBatch } from "./notify-batch.ts";
export type { NotificationDeliveryStatus, RedeliverResult } from "./redeliver.ts";
export {
  deliveryStatusOf,
  REDELIVER_POLL_MS,
  REDELIVER_WINDOW_MS,
  recoverLanes,
  redeliverDue,
  redeliverWindow,
  replayParked,
} from "./redeliver.ts";

/** The outbox item a status transition emits, with a stable id. */
import { createHash } from "node:crypto";
import type { MarginNotificationPayload } from "@backing/contracts";
import type { NotificationType } from "@backing/core";
import type {
  NotificationRecord,
  PrecedingNotification,
  PriceSnapshot,
  StateWrite,
  StoredRiskState,
} from "../ports/index.ts";
import { snapshotPrices } from "./snapshot.ts";

export function notificationId(accountId: string, version: number, type: NotificationType): string {
  return `ntf_${createHash("sha256").update(`${accountId}\u0000${version}\u0000${type}`).digest("hex").slice(0, 32)}`;
}

/**
 * The notification of a transition from `previous` (null: never evaluated, which counts as HEALTHY)
 * to `state`. Its episode is the one the transition opened or continues, or, for a cure, the one it
 * closed (DESIGN §5: the episode id is carried on every margin notification).
 */
export function notificationFor(
  type: NotificationType,
  state: StoredRiskState,
  previous: Pick<StoredRiskState, "status" | "episode"> | null,
  snapshot: PriceSnapshot,
  nowMs: number,
): NotificationRecord {
  const previousStatus = previous?.status ?? "HEALTHY";
  const episodeId = state.episode?.id ?? previous?.episode?.id ?? null;
  const payload: MarginNotificationPayload = {
    type,
    timestamp: new Date(nowMs).toISOString(),
    data: {
      venue: state.venue,
      account: state.accountId,
      status: state.status,
      previousStatus,
      equity: state.equity,
      initialMargin: state.initialMargin,
      maintenanceMargin: state.maintenanceMargin,
      callAmount: state.callAmount,
      deadline: state.episode ? new Date(state.episode.deadlineMs).toISOString() : null,
      episodeId,
      paramsVersion: state.paramsVersion,
      priceSnapshot: { id: snapshot.id, prices: snapshotPrices(snapshot) },
    },
  };
  return {
    id: notificationId(state.accountId, state.version, type),
    type,
    venue: state.venue,
    accountId: state.accountId,
    episodeId,
    createdAtMs: nowMs,
    payload,
    ...(state.evidence ? { evidence: state.evidence } : {}),
  };
}

/** Notifications one transition can emit, at most: each gets its own place in the account's sequence. */
const PER_TRANSITION = 16;

/**
 * A state write whose notifications know the account's earlier ones: each gets its `sequence`
 * (from the state's version, which every write raises) and `preceding` (the latest of each type
 * before it, newest first, from the state read and the transition's earlier ones), and the state
 * written keeps the list after them.
 */
export function linkedWrite(write: StateWrite): StateWrite {
  if (write.notifications.length === 0) return write;
  let notified = write.previous?.notified ?? [];
  const notifications = write.notifications.map((notification, i) => {
    const sequence = write.state.version * PER_TRANSITION + i;
    const linked = { ...notification, preceding: notified, sequence };
    const entry: PrecedingNotification = {
      id: notification.id,
      type: notification.type,
      createdAtMs: notification.createdAtMs,
      sequence,
    };
    notified = [entry, ...notified.filter((n) => n.type !== notification.type)];
    return linked;
  });
  return { ...write, state: { ...write.state, notified }, notifications };
}

/** The outbox item a status transition emits, with a stable id. */
import { createHash } from "node:crypto";
import type { MarginNotificationPayload } from "@backing/contracts";
import type { NotificationType } from "@backing/core";
import type { NotificationRecord, PriceSnapshot, StoredRiskState } from "../ports/index.ts";
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

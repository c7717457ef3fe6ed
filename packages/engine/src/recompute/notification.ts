/** The outbox item a status transition emits, with a stable id. */
import { createHash } from "node:crypto";
import type { MarginNotificationPayload } from "@backing/contracts";
import type { NotificationType } from "@backing/core";
import type { NotificationRecord, PriceSnapshot, StoredRiskState } from "../ports/index.ts";
import { snapshotPrices } from "./snapshot.ts";

export function notificationId(accountId: string, version: number, type: NotificationType): string {
  return `ntf_${createHash("sha256").update(`${accountId}\u0000${version}\u0000${type}`).digest("hex").slice(0, 32)}`;
}

export function notificationFor(
  type: NotificationType,
  state: StoredRiskState,
  previousStatus: StoredRiskState["status"],
  snapshot: PriceSnapshot,
  nowMs: number,
): NotificationRecord {
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
      episodeId: state.episode?.id ?? null,
      paramsVersion: state.paramsVersion,
      priceSnapshot: { id: snapshot.id, prices: snapshotPrices(snapshot) },
    },
  };
  return {
    id: notificationId(state.accountId, state.version, type),
    type,
    venue: state.venue,
    accountId: state.accountId,
    episodeId: state.episode?.id ?? null,
    createdAtMs: nowMs,
    payload,
    ...(state.evidence ? { evidence: state.evidence } : {}),
  };
}

import type { MarginNotificationPayload } from "@backing/contracts";
import type { NotificationRecord } from "@backing/engine";

/** A margin notification record as the engine writes it, with plausible figures (webhook tests and bench:webhooks). */
export function marginNotification(fields: {
  id: string;
  venue: string;
  account: string;
  createdAtMs: number;
  type?: MarginNotificationPayload["type"];
  episodeId?: string;
}): NotificationRecord {
  const type = fields.type ?? "margin.call";
  const status = type === "margin.cured" ? "HEALTHY" : type === "margin.warning" ? "WARNING" : "MARGIN_CALL";
  const episodeId = fields.episodeId ?? `ep-${fields.id}`;
  return {
    id: fields.id,
    type,
    venue: fields.venue,
    accountId: fields.account,
    episodeId,
    createdAtMs: fields.createdAtMs,
    payload: {
      type,
      timestamp: new Date(fields.createdAtMs).toISOString(),
      data: {
        venue: fields.venue,
        account: fields.account,
        status,
        previousStatus: "HEALTHY",
        equity: "9000.12345678",
        initialMargin: "10000",
        maintenanceMargin: "5000",
        callAmount: type === "margin.call" ? "999.87654322" : "0",
        deadline: type === "margin.call" ? new Date(fields.createdAtMs + 86_400_000).toISOString() : null,
        episodeId,
        paramsVersion: "2026-01-15",
        priceSnapshot: { id: "snap_1", prices: { BTC: { index: "90000", mark: "90010" } } },
      },
    },
  };
}

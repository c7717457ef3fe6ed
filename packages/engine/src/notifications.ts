import { createHash } from "node:crypto";
import type { ReportNotificationPayload } from "@backing/contracts";
import type { NotificationRecord } from "./ports/index.ts";

/**
 * One `report.*.ready` outbox item per venue with accounts in the report. The id derives from the
 * report, venue and type, so a re-run of the same report adds nothing to the outbox.
 */
export function reportReadyNotifications(
  type: ReportNotificationPayload["type"],
  reportId: string,
  venues: Iterable<string>,
  report: { asOf: string; createdAtMs: number; location: string; summary: Record<string, unknown> },
): NotificationRecord[] {
  return [...venues].sort().map((venue) => ({
    id: `ntf_${createHash("sha256").update(`${reportId}\u0000${venue}\u0000${type}`).digest("hex").slice(0, 32)}`,
    type,
    venue,
    accountId: null,
    episodeId: null,
    createdAtMs: report.createdAtMs,
    payload: {
      type,
      timestamp: report.asOf,
      data: { venue, reportId, location: report.location, asOf: report.asOf, summary: report.summary },
    },
  }));
}

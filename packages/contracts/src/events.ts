import { z } from "zod";
import {
  AssetSymbol,
  DecimalString,
  Identifier,
  Name,
  PositiveDecimalString,
  Timestamp,
} from "./primitives.ts";

/** A price update from a feed, the HTTP API or a replay (DESIGN §3.6). */
export const PriceEvent = z.strictObject({
  eventId: Name("an event id", 200),
  asset: AssetSymbol,
  /** A price of zero is refused: no traded asset has one, and every move from it would be a jump. */
  index: PositiveDecimalString,
  /** Defaults to `index`. */
  mark: PositiveDecimalString.optional(),
  timestamp: Timestamp,
  source: Name("a source name", 100),
  /**
   * The asset's implied volatility, annualised (DESIGN §3.10): options without a markPrice are
   * marked at the latest one; the configured volatility is only the default.
   */
  volatility: PositiveDecimalString.optional(),
  /** Per-asset feed sequence; when both updates have one it orders them instead of the timestamp. */
  sequence: z.number({ error: "expected a non-negative integer" }).int().nonnegative().optional(),
});
export type PriceEvent = z.infer<typeof PriceEvent>;

export const PriceEventBatch = z.union([PriceEvent, z.array(PriceEvent).min(1).max(1000)]);

/**
 * A funding print (DESIGN §3.10): F[venue][asset] rises by `rate × price` (`price`, else the
 * latest accepted mark of the asset). A positive rate means longs pay.
 */
export const FundingEvent = z.strictObject({
  eventId: Name("an event id", 200),
  venue: Identifier("a venue id"),
  asset: AssetSymbol,
  /** Per funding interval, signed. */
  rate: DecimalString,
  fundingTime: Timestamp,
  /** The settlement price; defaults to the asset's latest accepted mark. */
  price: PositiveDecimalString.optional(),
  source: Name("a source name", 100),
});
export type FundingEvent = z.infer<typeof FundingEvent>;

export const FundingEventBatch = z.union([FundingEvent, z.array(FundingEvent).min(1).max(1000)]);

export const NotificationType = z.enum([
  "margin.warning",
  "margin.call",
  "margin.liquidation",
  "margin.cured",
  "margin.call.expired",
  "report.exposure.ready",
  "report.stress.ready",
  "account.unwatched",
]);

/** The webhook body of a margin notification (DESIGN §5). */
export const MarginNotificationPayload = z.object({
  type: NotificationType.exclude(["report.exposure.ready", "report.stress.ready", "account.unwatched"]),
  timestamp: z.string(),
  data: z.object({
    venue: z.string(),
    account: z.string(),
    status: z.enum(["HEALTHY", "WARNING", "MARGIN_CALL", "LIQUIDATION"]),
    previousStatus: z.enum(["HEALTHY", "WARNING", "MARGIN_CALL", "LIQUIDATION"]).nullable(),
    equity: z.string(),
    initialMargin: z.string(),
    maintenanceMargin: z.string(),
    callAmount: z.string(),
    deadline: z.string().nullable(),
    episodeId: z.string().nullable(),
    paramsVersion: z.string(),
    priceSnapshot: z.object({
      id: z.string(),
      prices: z.record(z.string(), z.object({ index: z.string(), mark: z.string() })),
    }),
  }),
});
export type MarginNotificationPayload = z.infer<typeof MarginNotificationPayload>;

/** The webhook body of `report.exposure.ready` and `report.stress.ready`: where the report is and its headline numbers. */
export const ReportNotificationPayload = z.object({
  type: z.enum(["report.exposure.ready", "report.stress.ready"]),
  timestamp: z.string(),
  data: z.object({
    venue: z.string(),
    reportId: z.string(),
    location: z.string(),
    asOf: z.string(),
    summary: z.record(z.string(), z.unknown()),
  }),
});
export type ReportNotificationPayload = z.infer<typeof ReportNotificationPayload>;

/**
 * The webhook body of `account.unwatched`: an account the engine can no longer evaluate (an asset
 * unpriced, an instrument expired), so no margin call can be made on it until it is fixed. Sent
 * once when a sweep first finds it so.
 */
export const UnwatchedNotificationPayload = z.object({
  type: z.literal("account.unwatched"),
  timestamp: z.string(),
  data: z.object({
    venue: z.string(),
    account: z.string(),
    reasons: z.array(z.string()),
    since: z.string(),
  }),
});
export type UnwatchedNotificationPayload = z.infer<typeof UnwatchedNotificationPayload>;

/**
 * Every webhook body Backing sends (Standard Webhooks: `{ type, timestamp, data }`), signed per
 * attempt with the headers `webhook-id` (stable across retries), `webhook-timestamp` and
 * `webhook-signature`.
 */
export const WebhookPayload = z.union([
  MarginNotificationPayload,
  ReportNotificationPayload,
  UnwatchedNotificationPayload,
]);
export type WebhookPayload = z.infer<typeof WebhookPayload>;

/** A shard of a tick's recompute work (the SQS message body): the accounts to recompute. */
export const RecomputeTask = z.strictObject({
  accountIds: z.array(z.string().min(1)).min(1).max(1000),
  /** Why: the price event or sweep that produced it (for logs). */
  reason: z.string(),
  /** A funding print's recompute: only the accounts of this venue with perps settling on this asset. */
  settlingOn: z.strictObject({ venue: z.string().min(1), asset: z.string().min(1) }).optional(),
});
export type RecomputeTask = z.infer<typeof RecomputeTask>;

/** One segment of a sharded sweep (the SQS message body): the run it belongs to and its share of the book. */
export const SweepTask = z.strictObject({
  sweepId: z.string().min(1),
  /** Segments `0..segments-1` together cover the book once. */
  segment: z.number().int().min(0),
  segments: z.number().int().min(1).max(1024),
  /** full: every account of the segment; index: the accounts the latest prices left the bands of. Default full. */
  mode: z.enum(["full", "index"]).optional(),
});
export type SweepTask = z.infer<typeof SweepTask>;

/** One segment's pass of a sharded whole-book job (DESIGN §4.1), as the job queue carries it. */
export const JobTask = z.strictObject({
  job: z.enum(["exposure", "stress"]),
  runId: z.string().min(1),
  pass: z.number().int().min(0),
  /** Segments `0..segments-1` together cover the book once. */
  segment: z.number().int().min(0),
  segments: z.number().int().min(1).max(1024),
});
export type JobTask = z.infer<typeof JobTask>;

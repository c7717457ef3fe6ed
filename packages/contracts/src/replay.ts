import { z } from "zod";
import { DecimalText } from "./primitives.ts";

const Status = z.enum(["HEALTHY", "WARNING", "MARGIN_CALL", "LIQUIDATION"]);
const StatusCounts = z.strictObject({
  HEALTHY: z.number(),
  WARNING: z.number(),
  MARGIN_CALL: z.number(),
  LIQUIDATION: z.number(),
});

export const ReplayTotals = z.strictObject({
  calls: z.number(),
  liquidations: z.number(),
  cures: z.number(),
  expiredCalls: z.number(),
  /** Calls whose episode closed without a deposit and without a liquidation. */
  falseAlarms: z.number(),
  topUps: z.number(),
  liquidatedNotional: DecimalText,
  fees: DecimalText,
  badDebt: DecimalText,
  fundUsed: DecimalText,
  adlNotional: DecimalText,
});
export type ReplayTotals = z.infer<typeof ReplayTotals>;

export const ReplayNotification = z.strictObject({
  timestamp: z.string(),
  account: z.string(),
  type: z.enum([
    "margin.warning",
    "margin.call",
    "margin.liquidation",
    "margin.cured",
    "margin.call.expired",
  ]),
  equity: DecimalText,
  initialMargin: DecimalText,
  maintenanceMargin: DecimalText,
});
export type ReplayNotification = z.infer<typeof ReplayNotification>;

export const ReplayFill = z.strictObject({
  timestamp: z.string(),
  instrument: z.string(),
  /** The venue's trade: a long closed sells (negative). */
  size: DecimalText,
  price: DecimalText,
  fee: DecimalText,
  kind: z.enum(["liquidation", "adl"]),
  /** ADL: the realised profit given up to cover another account's bad debt. */
  charge: DecimalText.optional(),
});
export type ReplayFill = z.infer<typeof ReplayFill>;

export const ReplayAccount = z.strictObject({
  transitions: z.array(z.strictObject({ timestamp: z.string(), from: Status, to: Status })),
  fills: z.array(ReplayFill),
  badDebt: DecimalText,
});
export type ReplayAccount = z.infer<typeof ReplayAccount>;

export const ReplayRun = z.strictObject({
  paramsVersion: z.string(),
  totals: ReplayTotals,
  timeline: z.array(
    z.strictObject({
      timestamp: z.string(),
      prices: z.record(z.string(), DecimalText),
      accountsByStatus: StatusCounts,
      insuranceFund: DecimalText,
    }),
  ),
  notifications: z.array(ReplayNotification),
  accounts: z.record(z.string(), ReplayAccount),
  /** With --webhook: deliveries that got a 2xx, parked as failed, and still waiting for a retry. */
  webhooks: z.strictObject({ delivered: z.number(), parked: z.number(), pending: z.number() }).optional(),
});
export type ReplayRun = z.infer<typeof ReplayRun>;

/** `backing replay --format json` (DESIGN §3.12): one run per --params file, in the order given. */
export const ReplayReport = z.strictObject({
  path: z.string(),
  steps: z.number(),
  runs: z.array(ReplayRun),
});
export type ReplayReport = z.infer<typeof ReplayReport>;

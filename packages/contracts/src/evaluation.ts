import { z } from "zod";
import { DecimalText } from "./primitives.ts";

export const AccountStatus = z.enum(["HEALTHY", "WARNING", "MARGIN_CALL", "LIQUIDATION"]);
export type AccountStatus = z.infer<typeof AccountStatus>;

export const PositionResult = z.object({
  instrument: z.string(),
  notional: DecimalText,
  unrealizedPnl: DecimalText,
  /** Perps: accrued plus unsettled funding (DESIGN §3.10), included in unrealizedPnl. */
  funding: DecimalText.optional(),
  initialMargin: DecimalText,
  maintenanceMargin: DecimalText,
  liquidationPrice: DecimalText.nullable(),
});

export const AccountResult = z.object({
  id: z.string(),
  venue: z.string(),
  status: AccountStatus,
  collateralValue: DecimalText,
  unrealizedPnl: DecimalText,
  optionValue: DecimalText,
  equity: DecimalText,
  initialMargin: DecimalText,
  maintenanceMargin: DecimalText,
  marginRatio: DecimalText.nullable(),
  callAmount: DecimalText,
  positions: z.array(PositionResult),
  /** Present with `--explain`: the intermediate values behind every number above. */
  explain: z.unknown().optional(),
});
export type AccountResult = z.infer<typeof AccountResult>;
export type PositionResult = z.infer<typeof PositionResult>;

/** Output of `backing evaluate` (DESIGN §3.2). Requirements round up, values round down, at 8 dp. */
export const EvaluationOutput = z.object({
  asOf: z.string(),
  paramsVersion: z.string(),
  accounts: z.array(AccountResult),
});
export type EvaluationOutput = z.infer<typeof EvaluationOutput>;

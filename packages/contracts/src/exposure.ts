import { z } from "zod";
import { DecimalString } from "./primitives.ts";

const Status = z.enum(["HEALTHY", "WARNING", "MARGIN_CALL", "LIQUIDATION"]);
const Count = z.number().int().nonnegative();
/** Keyed by a relative price move as a decimal string: "-0.2", "-0.01", "0.05", … */
const ByMove = z.record(z.string(), DecimalString);

/** Shares are fractions of the total (0–1); HHI on the 0–10,000 scale; effectiveN = 10,000 / HHI. */
const Concentration = z.object({
  total: DecimalString,
  top1: DecimalString,
  top5: DecimalString,
  top10: DecimalString,
  top20: DecimalString,
  hhi: DecimalString,
  effectiveN: DecimalString.nullable(),
});

/** delta in base units; deltaNotional = delta × mark; gammaDollar per 1% move; vega per vol point. */
const Greeks = z.object({
  delta: DecimalString,
  deltaNotional: DecimalString,
  gammaDollar: DecimalString,
  vega: DecimalString,
});

const ExposureAsset = z.object({
  mark: DecimalString,
  /** Perps and futures, |size| × mark. */
  long: DecimalString,
  short: DecimalString,
  net: DecimalString,
  gross: DecimalString,
  /** Accounts with any position (linear or option) on the asset. */
  accounts: Count,
  options: Greeks.extend({
    positions: Count,
    byExpiry: z.array(Greeks.extend({ bucket: z.string() })),
  }),
  concentration: z.object({ gross: Concentration, net: Concentration }),
  /** Accounts net long the asset that also post it (or its liquid staking token) as collateral. */
  wrongWay: z.object({ accounts: Count, collateralAfterHaircut: DecimalString }),
  heatmap: z.array(
    z.object({
      from: DecimalString,
      to: DecimalString,
      notional: DecimalString,
      /** Of which liquidated when the price falls into the bin (net long accounts). */
      onFall: DecimalString,
      onRise: DecimalString,
    }),
  ),
  /** Linear notional by where its account's liquidation price lies. */
  liquidation: z.object({
    inHeatmap: DecimalString,
    beyondHeatmap: DecimalString,
    noLiquidationPrice: DecimalString,
  }),
  cumLiq: ByMove,
  depth: ByMove.nullable(),
  ldr: z.record(z.string(), DecimalString.nullable()),
  /** The moves at which LDR > 1. */
  cascadeWarnings: z.array(z.string()),
});

const AccountRef = z.object({ id: z.string(), venue: z.string() });

/** The stored exposure report (DESIGN §3.9); `backing report exposure --format json`. */
export const ExposureReport = z.object({
  asOf: z.string(),
  paramsVersion: z.string(),
  settings: z.object({ binWidth: DecimalString, range: DecimalString, depthMultiplier: DecimalString }),
  accounts: Count,
  totals: z.object({
    equity: DecimalString,
    initialMargin: DecimalString,
    maintenanceMargin: DecimalString,
    callAmount: DecimalString,
    collateralRaw: DecimalString,
    collateralAfterHaircut: DecimalString,
  }),
  assets: z.record(z.string(), ExposureAsset),
  collateral: z.record(
    z.string(),
    z.object({
      amount: DecimalString,
      raw: DecimalString,
      afterHaircut: DecimalString,
      /** Of the book's collateral after haircut. */
      share: DecimalString,
      accounts: Count,
      /** Stablecoins and liquid staking tokens: value lost after haircut if the asset falls by the move. */
      depeg: ByMove.optional(),
    }),
  ),
  accountsByStatus: z.object({ HEALTHY: Count, WARNING: Count, MARGIN_CALL: Count, LIQUIDATION: Count }),
  closestToLiquidation: z.array(
    AccountRef.extend({
      status: Status,
      asset: z.string(),
      mark: DecimalString,
      liquidationPrice: DecimalString,
      /** The move (a fraction of the mark) that reaches the liquidation price; ≤ 0: already there. */
      distance: DecimalString,
      notional: DecimalString,
      equity: DecimalString,
      maintenanceMargin: DecimalString,
    }),
  ),
  /** Null without a previous report. */
  changes: z
    .object({
      previousAsOf: z.string().nullable(),
      newMarginCalls: z.object({
        count: Count,
        accounts: z.array(
          AccountRef.extend({ from: Status.nullable(), to: Status, callAmount: DecimalString }),
        ),
      }),
      cured: z.object({
        count: Count,
        accounts: z.array(AccountRef.extend({ from: Status, to: Status })),
      }),
      largestEquityChanges: z.array(
        AccountRef.extend({ before: DecimalString, after: DecimalString, change: DecimalString }),
      ),
    })
    .nullable(),
});
export type ExposureReport = z.infer<typeof ExposureReport>;
export type ExposureAsset = z.infer<typeof ExposureAsset>;

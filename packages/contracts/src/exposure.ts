import { z } from "zod";
import { DecimalText } from "./primitives.ts";

const Status = z.enum(["HEALTHY", "WARNING", "MARGIN_CALL", "LIQUIDATION"]);
const Count = z.number().int().nonnegative();
/** Keyed by a relative price move as a decimal string: "-0.2", "-0.01", "0.05", … */
const ByMove = z.record(z.string(), DecimalText);

/** Shares are fractions of the total (0–1); HHI on the 0–10,000 scale; effectiveN = 10,000 / HHI. */
const Concentration = z.object({
  total: DecimalText,
  top1: DecimalText,
  top5: DecimalText,
  top10: DecimalText,
  top20: DecimalText,
  hhi: DecimalText,
  effectiveN: DecimalText.nullable(),
});

/** delta in base units; deltaNotional = delta × mark; gammaDollar per 1% move; vega per vol point. */
const Greeks = z.object({
  delta: DecimalText,
  deltaNotional: DecimalText,
  gammaDollar: DecimalText,
  vega: DecimalText,
});

const ExposureAsset = z.object({
  mark: DecimalText,
  /** Perps and futures, |size| × mark. */
  long: DecimalText,
  short: DecimalText,
  net: DecimalText,
  gross: DecimalText,
  /** Accounts with any position (linear or option) on the asset. */
  accounts: Count,
  options: Greeks.extend({
    positions: Count,
    byExpiry: z.array(Greeks.extend({ bucket: z.string() })),
  }),
  concentration: z.object({ gross: Concentration, net: Concentration }),
  /** Accounts net long the asset that also post it (or its liquid staking token) as collateral. */
  wrongWay: z.object({ accounts: Count, collateralAfterHaircut: DecimalText }),
  heatmap: z.array(
    z.object({
      from: DecimalText,
      to: DecimalText,
      notional: DecimalText,
      /** Of which liquidated when the price falls into the bin (net long accounts). */
      onFall: DecimalText,
      onRise: DecimalText,
    }),
  ),
  /** Linear notional by where its account's liquidation price lies. */
  liquidation: z.object({
    inHeatmap: DecimalText,
    beyondHeatmap: DecimalText,
    noLiquidationPrice: DecimalText,
  }),
  cumLiq: ByMove,
  /**
   * USD depth between the mark and mark × (1 + move), per move: from the venue's book (DESIGN §3.11,
   * `depthSource` "book"), else from the params' 1 % depth on a uniform book ("params"); null: none.
   */
  depth: ByMove.nullable(),
  depthSource: z.enum(["book", "params"]).nullable(),
  /** CumLiq / depth; null where there is no depth (none configured, or no level within the move). */
  ldr: z.record(z.string(), DecimalText.nullable()),
  /**
   * With a book: the average fill price of a market sell (bid) and buy (ask) of each notional, the
   * book moved to the mark; null when the visible side holds less. Notionals: the venue convention
   * 200 USDT ÷ IMR at the asset's maximum leverage, then 1,000,000 and 10,000,000.
   */
  impact: z
    .array(z.object({ notional: DecimalText, bid: DecimalText.nullable(), ask: DecimalText.nullable() }))
    .nullable(),
  /**
   * With a book: its levels within the heatmap's range, moved to the mark, each with the USD depth
   * from the mark to it (cumulative), for the chart of depth against cumulative liquidations.
   */
  book: z
    .object({
      timestamp: z.string(),
      bids: z.array(z.object({ price: DecimalText, cumulative: DecimalText })),
      asks: z.array(z.object({ price: DecimalText, cumulative: DecimalText })),
    })
    .nullable(),
  /** The moves at which LDR > 1. */
  cascadeWarnings: z.array(z.string()),
  /**
   * Auto-deleveraging exposure (DESIGN §3.12): profitable perps and futures by side, the queue
   * ranked by Binance's score (top 20), and what deleveraging it would close if the largest stress
   * scenario's bad debt past the insurance fund (`deficit`, from the latest stress report) fell on
   * this asset alone.
   */
  adl: z.object({
    profitableNotional: z.object({ long: DecimalText, short: DecimalText }),
    profit: z.object({ long: DecimalText, short: DecimalText }),
    queue: z.array(
      z.object({
        rank: z.number(),
        id: z.string(),
        venue: z.string(),
        instrument: z.string(),
        side: z.enum(["long", "short"]),
        score: DecimalText,
        notional: DecimalText,
        profit: DecimalText,
      }),
    ),
    deficit: DecimalText.nullable(),
    deleveragedNotional: DecimalText.nullable(),
    coveredByQueue: z.boolean().nullable(),
  }),
  /**
   * Funding at each venue's latest rate for one interval (DESIGN §3.10), USD: what the longs and
   * the shorts pay (negative: receive), and the net. Present when the report knows rates.
   */
  funding: z.object({ longsPay: DecimalText, shortsPay: DecimalText, net: DecimalText }).optional(),
});

const AccountRef = z.object({ id: z.string(), venue: z.string() });

/** The stored exposure report (DESIGN §3.9); `backing report exposure --format json`. */
export const ExposureReport = z.object({
  asOf: z.string(),
  paramsVersion: z.string(),
  settings: z.object({ binWidth: DecimalText, range: DecimalText, depthMultiplier: DecimalText }),
  accounts: Count,
  totals: z.object({
    equity: DecimalText,
    initialMargin: DecimalText,
    maintenanceMargin: DecimalText,
    callAmount: DecimalText,
    collateralRaw: DecimalText,
    collateralAfterHaircut: DecimalText,
  }),
  assets: z.record(z.string(), ExposureAsset),
  collateral: z.record(
    z.string(),
    z.object({
      amount: DecimalText,
      raw: DecimalText,
      afterHaircut: DecimalText,
      /** Of the book's collateral after haircut. */
      share: DecimalText,
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
      mark: DecimalText,
      liquidationPrice: DecimalText,
      /** The move (a fraction of the mark) that reaches the liquidation price; ≤ 0: already there. */
      distance: DecimalText,
      notional: DecimalText,
      equity: DecimalText,
      maintenanceMargin: DecimalText,
    }),
  ),
  /**
   * Accounts whose next funding payment (at the latest rates) exceeds their distance to MM
   * (equity − MM): one print takes them into liquidation. Absent when the report knows no rates.
   */
  fundingAtRisk: z
    .object({
      count: Count,
      accounts: z.array(AccountRef.extend({ payment: DecimalText, distanceToMaintenance: DecimalText })),
    })
    .optional(),
  /** Null without a previous report. */
  changes: z
    .object({
      previousAsOf: z.string().nullable(),
      newMarginCalls: z.object({
        count: Count,
        accounts: z.array(
          AccountRef.extend({ from: Status.nullable(), to: Status, callAmount: DecimalText }),
        ),
      }),
      cured: z.object({
        count: Count,
        accounts: z.array(AccountRef.extend({ from: Status, to: Status })),
      }),
      largestEquityChanges: z.array(
        AccountRef.extend({ before: DecimalText, after: DecimalText, change: DecimalText }),
      ),
    })
    .nullable(),
});
export type ExposureReport = z.infer<typeof ExposureReport>;
export type ExposureAsset = z.infer<typeof ExposureAsset>;

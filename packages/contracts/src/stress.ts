import { z } from "zod";
import {
  assetRecord,
  boundedNumber,
  DecimalString,
  DecimalText,
  Name,
  NonNegativeDecimalString,
  PositiveDecimalString,
} from "./primitives.ts";

const ISO_DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/;

export const Shock = z
  .strictObject({
    /** Relative price move, e.g. "-0.25"; must stay above −1. */
    price: DecimalString.optional(),
    /** Absolute implied-vol shift, e.g. "0.4" = +40 vol points. */
    vol: DecimalString.optional(),
    /** Correlated shock: price move = beta × the BTC move of the same scenario. */
    beta: DecimalString.optional(),
  })
  .superRefine((shock, ctx) => {
    if (shock.price !== undefined && Number(shock.price) <= -1) {
      ctx.addIssue({ code: "custom", path: ["price"], message: "expected a relative move above -1" });
    }
    if (shock.price !== undefined && shock.beta !== undefined) {
      ctx.addIssue({ code: "custom", path: ["beta"], message: "give either price or beta, not both" });
    }
  });

/** One scenario (DESIGN §3.8). */
export const Scenario = z.strictObject({
  id: z
    .string({ error: "expected a scenario id" })
    .regex(/^[A-Za-z0-9_.-]{1,80}$/, { error: "expected a scenario id (letters, digits, _ . -)" }),
  name: Name("a scenario name", 200),
  type: z.enum(["historical", "hypothetical", "reverse"], {
    error: 'expected "historical", "hypothetical" or "reverse"',
  }),
  horizon: z
    .string({ error: "expected an ISO 8601 duration" })
    .regex(ISO_DURATION, { error: "expected an ISO 8601 duration such as P7D or PT1H" }),
  shocks: assetRecord(Shock).default({}),
  /**
   * Price levels after the shock: USD for stablecoins; for liquid staking tokens (stETH, wstETH)
   * the level relative to ETH (0.93 = a 7% discount to shocked ETH).
   */
  pegs: assetRecord(NonNegativeDecimalString).default({}),
  depthMultiplier: PositiveDecimalString.default("1"),
  /**
   * Funding paid over the horizon (DESIGN §3.10): per asset, the rate per 8 h (positive: longs
   * pay). Each perp's post-shock PnL adds −size × shockedMark × rate × fundingIntervals.
   */
  funding: assetRecord(DecimalString).default({}),
  /** How many 8 h funding intervals the scenario lasts; default: the whole ones in `horizon` (P1D: 3). */
  fundingIntervals: boundedNumber("a whole number of 8 h intervals", 0, 10_000, true).optional(),
  cascade: z.boolean({ error: "expected true or false" }).default(true),
  /** Where the scenario comes from: a list of source keys (as the reference pack writes it), or an object. */
  provenance: z
    .union([
      z.array(z.string()).transform((sources) => ({ sources })),
      z.strictObject({
        sources: z.array(z.string()).default([]),
        confidence: z.string().optional(),
        notes: z.string().optional(),
      }),
    ])
    .optional(),
});
export type Scenario = z.infer<typeof Scenario>;

export const ScenarioPack = z
  .strictObject({
    id: z.string({ error: "expected a pack id" }).min(1),
    version: z.string({ error: "expected a pack version" }).min(1),
    scenarios: z.array(Scenario).min(1, { error: "expected at least one scenario" }),
  })
  .superRefine((pack, ctx) => {
    const seen = new Map<string, number>();
    pack.scenarios.forEach((scenario, i) => {
      const first = seen.get(scenario.id);
      if (first !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["scenarios", i, "id"],
          message: `duplicate scenario id "${scenario.id}" (also scenarios[${first}])`,
        });
      } else seen.set(scenario.id, i);
    });
  });
export type ScenarioPack = z.infer<typeof ScenarioPack>;
export type ScenarioPackInput = z.input<typeof ScenarioPack>;

const StressAccount = z.object({
  id: z.string(),
  equity: DecimalText,
  maintenanceMargin: DecimalText,
  status: z.enum(["HEALTHY", "WARNING", "MARGIN_CALL", "LIQUIDATION"]),
  deficit: DecimalText,
  badDebt: DecimalText,
});

/**
 * What priced each asset's cascade: its depth book (`depth`: the side walked, the levels reached,
 * the base units consumed of the visible, scaled size, and whether the flow went past the last
 * level), the square-root model (`model`), or nothing (`none`: no book and no impact parameters).
 */
export const CascadePricing = z.record(
  z.string(),
  z.discriminatedUnion("pricedBy", [
    z.object({
      pricedBy: z.literal("depth"),
      side: z.enum(["bids", "asks"]),
      levelsTouched: z.number(),
      consumed: DecimalText,
      visible: DecimalText,
      pastBook: z.boolean(),
    }),
    z.object({ pricedBy: z.enum(["model", "none"]) }),
  ]),
);
export type CascadePricing = z.infer<typeof CascadePricing>;

/** Output of `backing stress --format json` (DESIGN §3.8). */
export const StressReport = z.object({
  asOf: z.string(),
  paramsVersion: z.string(),
  pack: z.string(),
  scenarios: z.array(
    z.object({
      id: z.string(),
      accountsByStatus: z.object({
        HEALTHY: z.number(),
        WARNING: z.number(),
        MARGIN_CALL: z.number(),
        LIQUIDATION: z.number(),
      }),
      totalDeficit: DecimalText,
      totalBadDebt: DecimalText,
      insuranceFundAfter: DecimalText,
      cover1: DecimalText,
      cover2: DecimalText,
      /** The accounts behind Cover-2, largest bad debt first. */
      coverAccounts: z.array(z.string()),
      reverseSeverity: DecimalText.nullable(),
      cascade: z.object({
        rounds: z.number(),
        finalPrices: z.record(z.string(), DecimalText),
        forcedNotional: z.record(z.string(), DecimalText),
        addedBadDebt: DecimalText,
        /** Per asset with forced flow: whether its book (DESIGN §3.11) or the square-root model priced it. */
        pricing: CascadePricing,
      }),
      /** Accounts liquidated by the shock itself, before any cascade, largest deficit first (up to 10). */
      breaksFirst: z.array(z.string()),
      /**
       * The loss waterfall (DESIGN §3.12): the venue's liquidation fees into the fund, the bad debt
       * the fund (with the fees) pays, and what it cannot pay, which auto-deleveraging would take.
       * insuranceFundAfter = insuranceFund + fees − totalBadDebt.
       */
      waterfall: z.object({ fees: DecimalText, fundUsed: DecimalText, toAdl: DecimalText }),
      accounts: z.array(StressAccount),
    }),
  ),
});
export type StressReport = z.infer<typeof StressReport>;

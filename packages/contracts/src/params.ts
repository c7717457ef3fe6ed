import { z } from "zod";
import {
  assetRecord,
  boundedNumber,
  FractionString,
  NonNegativeDecimalString,
  PositiveDecimalString,
  Timestamp,
} from "./primitives.ts";

export const HaircutTier = z.strictObject({
  upTo: PositiveDecimalString.nullable(),
  haircut: FractionString,
});

/** Tiers cut the USD value of a balance like tax brackets; the last tier is unbounded (`upTo: null`). */
export const HaircutTiers = z
  .array(HaircutTier)
  .min(1, { error: "expected at least one haircut tier" })
  .superRefine((tiers, ctx) => {
    tiers.forEach((tier, i) => {
      const last = i === tiers.length - 1;
      if (last && tier.upTo !== null) {
        ctx.addIssue({
          code: "custom",
          path: [i, "upTo"],
          message: "expected null: the last tier is unbounded",
        });
      }
      if (!last && tier.upTo === null) {
        ctx.addIssue({
          code: "custom",
          path: [i, "upTo"],
          message: "only the last tier may be unbounded (null)",
        });
      }
      const previous = tiers[i - 1]?.upTo;
      if (previous && tier.upTo && Number(tier.upTo) <= Number(previous)) {
        ctx.addIssue({
          code: "custom",
          path: [i, "upTo"],
          message: "expected tiers in increasing order of upTo",
        });
      }
    });
  });

export const Bracket = z.strictObject({
  notionalCap: PositiveDecimalString,
  maxLeverage: PositiveDecimalString,
  mmr: FractionString,
});

export const Brackets = z
  .array(Bracket)
  .min(1, { error: "expected at least one bracket" })
  .superRefine((brackets, ctx) => {
    brackets.forEach((bracket, i) => {
      const previous = brackets[i - 1];
      if (previous && Number(bracket.notionalCap) <= Number(previous.notionalCap)) {
        ctx.addIssue({
          code: "custom",
          path: [i, "notionalCap"],
          message: "expected brackets in increasing order of notionalCap",
        });
      }
      // A falling mmr would make MM = notional × mmr − cum negative inside a bracket.
      if (previous && Number(bracket.mmr) < Number(previous.mmr)) {
        ctx.addIssue({
          code: "custom",
          path: [i, "mmr"],
          message: "expected mmr not to decrease from one bracket to the next",
        });
      }
    });
  });

export const OptionParams = z.strictObject({
  shortInitialBase: FractionString,
  shortInitialFloor: FractionString,
  shortMaintenance: FractionString,
});

export const PortfolioMarginParams = z.strictObject({
  priceRange: FractionString,
  buckets: boundedNumber("a whole number of buckets", 1, 100, true),
  volUp: NonNegativeDecimalString,
  volDown: FractionString,
  mmFactor: PositiveDecimalString,
  contingency: NonNegativeDecimalString,
});

export const StatusParams = z.strictObject({
  warningBuffer: NonNegativeDecimalString,
  cureBuffer: NonNegativeDecimalString,
  callDeadlineHours: boundedNumber("a number of hours", 0.001, 8760),
});

export const PriceGuardParams = z.strictObject({
  maxPriceAgeSeconds: boundedNumber("a number of seconds", 0.001, 86_400),
  maxJump: PositiveDecimalString,
  confirmAfterSeconds: boundedNumber("a number of seconds", 0, 86_400),
  /** How far ahead of the engine's clock a price may be stamped (clock skew); further is refused. Default 5. */
  maxFutureSkewSeconds: boundedNumber("a number of seconds", 0, 3600).optional(),
  /** How far a mark may stray from its index; beyond, it is evaluated at the bound (DESIGN §3.10). Default "0.1". */
  maxMarkDeviation: FractionString.optional(),
});

export const ImpactParams = z.strictObject({
  Y: PositiveDecimalString,
  dailyVol: PositiveDecimalString,
  dailyVolume: PositiveDecimalString,
});

export const StressParams = z.strictObject({
  insuranceFund: NonNegativeDecimalString,
  impact: assetRecord(ImpactParams),
  maxCascadeRounds: boundedNumber("a whole number of rounds", 1, 1000, true),
});

/**
 * The venue's liquidation model (DESIGN §3.12): a liquidated account's positions are closed at the
 * mark in steps of at most `stepFraction` of each position until equity is back above
 * `targetMargin` × MM, paying `fee` on the closed notional to the insurance fund.
 */
/** A decimal string in (low, high] when low is 0, else [low, high]; the message names the bounds. */
const decimalStringBetween = (name: string, low: string, high: string) =>
  NonNegativeDecimalString.refine(
    (v) => (low === "0" ? Number(v) > 0 : Number(v) >= Number(low)) && Number(v) <= Number(high),
    { error: `expected ${name} ${low === "0" ? "above 0" : `at least ${low}`} and at most ${high}` },
  );

export const LiquidationParams = z.strictObject({
  stepFraction: decimalStringBetween("stepFraction", "0", "1"),
  targetMargin: decimalStringBetween("targetMargin", "1", "100"),
  fee: FractionString,
});

/**
 * Exposure report settings (DESIGN §3.9). `depth`: one side's order-book depth within 1% of mid,
 * in USD, per asset; Depth(Δ) = depth × |Δ| / 0.01 × depthMultiplier (a uniform book). Assets
 * without a depth get no liquidation-to-depth ratio.
 */
export const MAX_HEATMAP_BINS = 2000;

export const ExposureParams = z.strictObject({
  depth: assetRecord(PositiveDecimalString),
  depthMultiplier: PositiveDecimalString,
  heatmap: z
    .strictObject({
      /** Bin width as a fraction of the mark (0.01 = 1% bins). */
      binWidth: PositiveDecimalString,
      /** Bins cover mark × (1 − range) … mark × (1 + range). */
      range: FractionString,
    })
    .refine((h) => (2 * Number(h.range)) / Number(h.binWidth) <= MAX_HEATMAP_BINS, {
      error: `at most ${MAX_HEATMAP_BINS} heatmap bins (2 × range / binWidth): widen binWidth or narrow range`,
    }),
});

const riskParamsShape = {
  version: z.string({ error: "expected a version string" }).min(1),
  effectiveFrom: Timestamp,
  collateral: assetRecord(z.strictObject({ haircutTiers: HaircutTiers })),
  liabilitySurcharge: NonNegativeDecimalString,
  brackets: assetRecord(Brackets),
  options: OptionParams,
  portfolio: PortfolioMarginParams,
  status: StatusParams,
  priceGuards: PriceGuardParams,
  stress: StressParams.optional(),
  exposure: ExposureParams.optional(),
  liquidation: LiquidationParams.optional(),
};

/** The versioned risk parameter document (DESIGN §3.5). */
export const RiskParamsDocument = z.strictObject(riskParamsShape);
export type RiskParamsDocument = z.infer<typeof RiskParamsDocument>;

/**
 * The `params` override inside a portfolio document: merged key by key over the defaults, arrays
 * replaced whole. Only the shape is checked here; the merged result is checked with
 * `RiskParamsDocument` so that, say, a bracket list stays increasing after the merge.
 */
export const RiskParamsOverride = z.strictObject({
  version: riskParamsShape.version.optional(),
  effectiveFrom: Timestamp.optional(),
  collateral: assetRecord(z.strictObject({ haircutTiers: HaircutTiers.optional() })).optional(),
  liabilitySurcharge: NonNegativeDecimalString.optional(),
  brackets: assetRecord(Brackets).optional(),
  options: OptionParams.partial().optional(),
  portfolio: PortfolioMarginParams.partial().optional(),
  status: StatusParams.partial().optional(),
  priceGuards: PriceGuardParams.partial().optional(),
  stress: z
    .strictObject({
      insuranceFund: NonNegativeDecimalString.optional(),
      impact: assetRecord(ImpactParams.partial()).optional(),
      maxCascadeRounds: boundedNumber("a whole number of rounds", 1, 1000, true).optional(),
    })
    .optional(),
  liquidation: LiquidationParams.partial().optional(),
  exposure: z
    .strictObject({
      depth: assetRecord(PositiveDecimalString).optional(),
      depthMultiplier: PositiveDecimalString.optional(),
      heatmap: z
        .strictObject({ binWidth: PositiveDecimalString.optional(), range: FractionString.optional() })
        .optional(),
    })
    .optional(),
});
export type RiskParamsOverride = z.infer<typeof RiskParamsOverride>;

import { z } from "zod";
import { PortfolioDepth } from "./depth.ts";
import { RiskParamsOverride } from "./params.ts";
import {
  AssetSymbol,
  assetRecord,
  DecimalString,
  Identifier,
  Name,
  NonNegativeDecimalString,
  PositiveDecimalString,
  Timestamp,
} from "./primitives.ts";

const positionBase = {
  instrument: Name("an instrument name", 64),
  underlying: AssetSymbol,
  /** Signed base units: positive is long. */
  size: DecimalString,
};

export const PerpPosition = z.strictObject({
  ...positionBase,
  type: z.literal("perp"),
  entryPrice: NonNegativeDecimalString,
  /** Accrued, unsettled funding in USD; positive is received. */
  funding: DecimalString.optional(),
  /**
   * The cumulative funding F (USD per unit) at which the position last settled (DESIGN §3.10): it
   * owes `−size × (F − fundingIndex)` more, F being the document's cumulativeFunding of its venue
   * and underlying.
   */
  fundingIndex: DecimalString.optional(),
});

export const FuturePosition = z.strictObject({
  ...positionBase,
  type: z.literal("future"),
  entryPrice: NonNegativeDecimalString,
  expiry: Timestamp,
  funding: DecimalString.optional(),
});

export const OptionPosition = z.strictObject({
  ...positionBase,
  type: z.literal("option"),
  optionType: z.enum(["call", "put"], { error: 'expected "call" or "put"' }),
  strike: PositiveDecimalString,
  expiry: Timestamp,
  /** USD per unit; without it the option is marked with Black-76. */
  markPrice: NonNegativeDecimalString.optional(),
});

export const Position = z.discriminatedUnion("type", [PerpPosition, FuturePosition, OptionPosition], {
  error: 'expected type "perp", "future" or "option"',
});
export type Position = z.infer<typeof Position>;

/**
 * Per account: the item holding it (and its risk state, which repeats it) must stay inside
 * DynamoDB's 400 KB. 1,000 positions of the longest accepted fields take about 330 KB.
 */
export const MAX_POSITIONS = 1000;
export const MAX_COLLATERAL_ASSETS = 100;

export const Account = z.strictObject({
  id: Identifier("an account id"),
  venue: Identifier("a venue id"),
  marginMode: z
    .enum(["standard", "portfolio"], { error: 'expected "standard" or "portfolio"' })
    .default("standard"),
  collateral: assetRecord(DecimalString)
    .refine((c) => Object.keys(c).length <= MAX_COLLATERAL_ASSETS, {
      error: `at most ${MAX_COLLATERAL_ASSETS} collateral assets per account`,
    })
    .default({}),
  positions: z
    .array(Position)
    .max(MAX_POSITIONS, { error: `at most ${MAX_POSITIONS} positions per account` })
    .default([]),
});
export type Account = z.infer<typeof Account>;

export const PriceQuote = z.strictObject({
  index: NonNegativeDecimalString,
  /** Defaults to `index`. */
  mark: NonNegativeDecimalString.optional(),
});

/**
 * The portfolio document: input of `backing evaluate`, `backing stress` and `POST /v1/evaluate`
 * (DESIGN §3.2). Every object is strict: an unknown field is an error that names its path.
 */
export const PortfolioDocument = z.strictObject({
  asOf: Timestamp,
  prices: assetRecord(PriceQuote),
  volatility: assetRecord(PositiveDecimalString).default({}),
  params: RiskParamsOverride.optional(),
  /** Cumulative funding F per venue and underlying, USD per unit of base (DESIGN §3.10). */
  cumulativeFunding: z.record(Identifier("a venue id"), assetRecord(DecimalString)).default({}),
  /** Order-book snapshots by asset (DESIGN §3.11): cascades and LDR walk them. */
  depth: PortfolioDepth.default({}),
  accounts: z.array(Account),
});
export type PortfolioDocument = z.infer<typeof PortfolioDocument>;

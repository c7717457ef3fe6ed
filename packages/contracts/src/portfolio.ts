import { z } from "zod";
import { RiskParamsOverride } from "./params.ts";
import {
  AssetSymbol,
  DecimalString,
  NonNegativeDecimalString,
  PositiveDecimalString,
  Timestamp,
} from "./primitives.ts";

const positionBase = {
  instrument: z
    .string({ error: "expected an instrument name" })
    .min(1, { error: "expected an instrument name" }),
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

export const Account = z.strictObject({
  id: z.string({ error: "expected an account id" }).min(1, { error: "expected an account id" }),
  venue: z.string({ error: "expected a venue id" }).min(1, { error: "expected a venue id" }),
  marginMode: z
    .enum(["standard", "portfolio"], { error: 'expected "standard" or "portfolio"' })
    .default("standard"),
  collateral: z.record(AssetSymbol, DecimalString).default({}),
  positions: z.array(Position).default([]),
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
  prices: z.record(AssetSymbol, PriceQuote),
  volatility: z.record(AssetSymbol, PositiveDecimalString).default({}),
  params: RiskParamsOverride.optional(),
  accounts: z.array(Account),
});
export type PortfolioDocument = z.infer<typeof PortfolioDocument>;

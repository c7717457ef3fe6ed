import type { OptionType } from "./black76.ts";
import type { Decimal } from "./decimal.ts";

/** Prices of one asset. Collateral is valued at `index`; positions are marked at `mark`. */
export interface Quote {
  index: Decimal;
  mark: Decimal;
}

/** Everything an evaluation reads besides the account: the time is an input, never a clock. */
export interface Market {
  asOfMs: number;
  quotes: ReadonlyMap<string, Quote>;
  /** Annualised implied volatility per underlying (model input, float64). */
  vols: ReadonlyMap<string, number>;
}

export interface LinearPosition {
  kind: "linear";
  type: "perp" | "future";
  instrument: string;
  underlying: string;
  /** Signed base units: positive is long. */
  size: Decimal;
  entryPrice: Decimal;
  /**
   * Funding in USD, positive = received: the accrued funding the document states plus, for a perp
   * with a fundingIndex, the unsettled `−size × (F − fundingIndex)`. Constant in the price, so every
   * margin path (Decimal, fixed-point kernel, liquidation solver) includes it as it does accrued funding.
   */
  funding: Decimal;
  /** A perp that settles against cumulative funding: the parts of `funding`, for explain. */
  settlement?: { accrued: Decimal; fundingIndex: Decimal; cumulative: Decimal; unsettled: Decimal };
  expiryMs: number | null;
}

export interface OptionPosition {
  kind: "option";
  instrument: string;
  underlying: string;
  optionType: OptionType;
  strike: Decimal;
  expiryMs: number;
  size: Decimal;
  /** USD per unit; null means "mark with Black-76". */
  markPrice: Decimal | null;
}

export type Position = LinearPosition | OptionPosition;

export interface CollateralBalance {
  asset: string;
  /** Negative is a loan. */
  amount: Decimal;
}

export type MarginMode = "standard" | "portfolio";

export interface AccountBook {
  id: string;
  venue: string;
  marginMode: MarginMode;
  collateral: readonly CollateralBalance[];
  positions: readonly Position[];
}

export const MS_PER_YEAR = 365 * 24 * 3600 * 1000;

export function quoteOf(market: Market, asset: string): Quote {
  const quote = market.quotes.get(asset);
  // Inputs are checked by parsePortfolio; reaching this is a programming error, not bad input.
  if (!quote) throw new Error(`no price for ${asset}`);
  return quote;
}

/** The same market with one underlying's mark replaced (index kept): "all other prices fixed". */
export function withMark(market: Market, asset: string, mark: Decimal): Market {
  const quotes = new Map(market.quotes);
  quotes.set(asset, { index: quoteOf(market, asset).index, mark });
  return { ...market, quotes };
}

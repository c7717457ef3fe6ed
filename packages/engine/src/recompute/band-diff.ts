/** Which trigger bands a recompute must write: the new ones that differ from what is stored. */
import {
  type AccountBook,
  type AccountStatus,
  Decimal,
  type MarginTotals,
  type Market,
  type PriceBand,
  type RiskParams,
  sensitiveAssets,
  triggerBands,
} from "@backing/core";
import type { StoredBand } from "../ports/index.ts";

/** An account's totals and the status it holds after them: what its bands are computed from. */
export type Evaluation = { totals: MarginTotals; status: AccountStatus };

/**
 * A band whose nearest edge is closer to the price than this share of it is stored as none: the
 * account is then re-evaluated on every move of the asset instead of rewriting a band (an indexed
 * write: 3 to 5 write units) every few ticks. At a tick a second and a daily volatility of 3–5 %,
 * an edge 0.05 % away is about 5 ticks' standard deviations, crossed within about 25 ticks; 25
 * re-evaluations cost about 25 read units (an eventually consistent read of the account and its
 * state), which is what one band rewrite costs at on-demand prices (a write unit is 5 read
 * units). Closer edges, an account hovering at a threshold in a crash, are cheaper with no band.
 * As safe as any: no band means every move re-evaluates.
 */
export const NARROWEST_BAND_REACH = new Decimal("0.0005");

/** The band, or none when an edge is within NARROWEST_BAND_REACH of the price. */
function storable(band: PriceBand, quote: { index: Decimal; mark: Decimal } | undefined): PriceBand {
  if (!band.low || !band.high || !quote) return band;
  const price = Decimal.max(quote.index, quote.mark);
  const reach = Decimal.min(Decimal.min(quote.index, quote.mark).minus(band.low), band.high.minus(price));
  return reach.lt(price.times(NARROWEST_BAND_REACH)) ? { asset: band.asset, low: null, high: null } : band;
}

/**
 * The bands to write after these evaluations: core's (none for a band too narrow to be worth
 * indexing), less every band whose stored one lies inside it and still holds the current price (as
 * safe: moves within the stored band stay within the new one's guarantee, only more eager; and a
 * read costs DynamoDB Local a fraction of an indexed write) or is "no band" again.
 */
export function newBands(
  evaluated: { book: AccountBook; held: Evaluation | null }[],
  stored: Map<string, StoredBand[]>,
  market: Market,
  params: RiskParams,
): StoredBand[] {
  const bands: StoredBand[] = [];
  for (const { book, held } of evaluated) {
    const before = new Map(
      (stored.get(book.id) ?? []).map((b) => [
        b.asset,
        {
          asset: b.asset,
          low: b.low === null ? null : new Decimal(b.low),
          high: b.high === null ? null : new Decimal(b.high),
        },
      ]),
    );
    const computed = held
      ? triggerBands(book, market, params, held.totals, held.status)
      : sensitiveAssets(book).map((asset): PriceBand => ({ asset, low: null, high: null }));
    for (const computedBand of computed) {
      const quote = market.quotes.get(computedBand.asset);
      const band = storable(computedBand, quote);
      const old = before.get(band.asset);
      const inside =
        old?.low &&
        old.high &&
        band.low &&
        band.high &&
        old.low.gte(band.low) &&
        old.high.lte(band.high) &&
        // A stored band the current price has left would trigger again on every tick.
        quote !== undefined &&
        old.low.lte(Decimal.min(quote.index, quote.mark)) &&
        old.high.gte(Decimal.max(quote.index, quote.mark));
      const noneAgain =
        old && old.low === null && old.high === null && band.low === null && band.high === null;
      if (!inside && !noneAgain)
        bands.push({
          accountId: book.id,
          asset: band.asset,
          low: band.low?.toFixed() ?? null,
          high: band.high?.toFixed() ?? null,
        });
    }
  }
  return bands;
}

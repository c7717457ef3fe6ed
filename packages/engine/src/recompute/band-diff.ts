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
 * The bands to write after these evaluations: core's, less every band whose stored one lies inside
 * it and still holds the current price (as safe: moves within the stored band stay within the new
 * one's guarantee, only more eager; and a read costs DynamoDB Local a fraction of an indexed write)
 * or is "no band" again.
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
    for (const band of computed) {
      const old = before.get(band.asset);
      const quote = market.quotes.get(band.asset);
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

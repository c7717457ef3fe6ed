import {
  type AccountBook,
  type AccountStatus,
  Decimal,
  leavesBand,
  type Market,
  marginTotals,
  nextStatus,
  type PriceBand,
  type Quote,
  triggerBands,
} from "@backing/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { accountArbitrary, documentOf, pricesArbitrary } from "../helpers/arbitraries.ts";
import { accountDocument, parse, perp, portfolioDocument } from "../helpers/portfolio.ts";

const MOVING = ["BTC", "ETH", "SOL", "stETH"] as const;

/** A price path: each step moves some assets by a relative amount (index and mark together). */
const pathArbitrary = fc.array(
  fc.dictionary(fc.constantFrom(...MOVING), fc.double({ min: -0.12, max: 0.12, noNaN: true }), {
    minKeys: 1,
  }),
  { minLength: 1, maxLength: 12 },
);

function moved(market: Market, moves: Record<string, number>): Market {
  const quotes = new Map<string, Quote>(market.quotes);
  for (const [asset, move] of Object.entries(moves)) {
    const quote = quotes.get(asset);
    if (!quote) continue;
    const factor = new Decimal(1 + move).toDecimalPlaces(6);
    quotes.set(asset, { index: quote.index.times(factor), mark: quote.mark.times(factor) });
  }
  return { ...market, quotes };
}

describe("trigger bands", () => {
  it("the incremental engine (re-evaluate only accounts that leave a band) matches a full recompute at every step", () => {
    let skipped = 0;
    let total = 0;
    fc.assert(
      fc.property(
        pricesArbitrary,
        fc.array(accountArbitrary("x"), { minLength: 1, maxLength: 8 }),
        pathArbitrary,
        (prices, accounts, path) => {
          const portfolio = parse(
            documentOf(
              prices,
              accounts.map((a, i) => ({ ...a, id: `a-${i}` })),
            ),
          );
          const { params } = portfolio;
          let market = portfolio.market;
          const full = new Map<string, AccountStatus>();
          const incremental = new Map<string, { status: AccountStatus; bands: PriceBand[] }>();
          const evaluate = (book: AccountBook, previous: AccountStatus | null) => {
            const totals = marginTotals(book, market, params);
            return { totals, status: nextStatus(previous, totals, params) };
          };
          for (const book of portfolio.accounts) {
            const { totals, status } = evaluate(book, null);
            full.set(book.id, status);
            incremental.set(book.id, { status, bands: triggerBands(book, market, params, totals) });
          }
          let reevaluated = 0;
          for (const moves of path) {
            market = moved(market, moves);
            for (const book of portfolio.accounts) {
              full.set(book.id, evaluate(book, full.get(book.id) ?? null).status);
              const held = incremental.get(book.id);
              if (!held) throw new Error("unreachable");
              const left = held.bands.some(
                (band) => band.asset in moves && leavesBand(band, market.quotes.get(band.asset) as Quote),
              );
              if (left) {
                reevaluated++;
                const { totals, status } = evaluate(book, held.status);
                incremental.set(book.id, { status, bands: triggerBands(book, market, params, totals) });
              }
              expect(incremental.get(book.id)?.status, `${book.id} after ${JSON.stringify(moves)}`).toBe(
                full.get(book.id),
              );
            }
          }
          skipped += portfolio.accounts.length * path.length - reevaluated;
          total += portfolio.accounts.length * path.length;
          return true;
        },
      ),
      { numRuns: 200 },
    );
    // The bands must actually spare work, or the property says nothing.
    expect(skipped / total).toBeGreaterThan(0.2);
  });

  it("a long perp on USDC: the band is the price move that uses up the smallest margin, split by expected dollar move", () => {
    // One bracket: IM = P/10, MM = 0.01·P; 1 BTC long at 100,000 on 20,000 USDC: E = 20,000.
    // Margins (w = 0.2, cure = 0.02): the smallest is E − IM·1.2·1.02 = 20,000 − 12,240 = 7,760.
    // Rates: BTC 1 + 1.224 × max(1/10, 0.01) = 1.1224; USDC 20,000.
    // Weights (rate × price × typical move): BTC 1.1224 × 100,000 × 0.04 (the stress dailyVol) = 4,489.6;
    // USDC 20,000 × 1 × 0.002 = 40. Shares: 7,760 × 4,489.6 / 4,529.6 and 7,760 × 40 / 4,529.6.
    const portfolio = parse(
      portfolioDocument({
        params: { brackets: { BTC: [{ notionalCap: "1000000000", maxLeverage: "10", mmr: "0.01" }] } },
        accounts: [
          accountDocument({ collateral: { USDC: "20000" }, positions: [perp("BTC", "1", "100000")] }),
        ],
      }),
    );
    const book = portfolio.accounts[0] as AccountBook;
    const bands = triggerBands(
      book,
      portfolio.market,
      portfolio.params,
      marginTotals(book, portfolio.market, portfolio.params),
    );
    const btc = bands.find((b) => b.asset === "BTC");
    const d = new Decimal(7760).times("4489.6").div("4529.6").div("1.1224").times("0.999999");
    expect(btc?.low?.toFixed(6)).toBe(new Decimal(100000).minus(d).toFixed(6));
    expect(btc?.high?.toFixed(6)).toBe(new Decimal(100000).plus(d).toFixed(6));
    // 7,691.47 / 1.1224 ≈ ±6,853: 6.85% either way, against 3,880 / 1.1224 ≈ ±3,457 with an even split.
    expect(d.round().toNumber()).toBe(6853);
    const usdc = bands.find((b) => b.asset === "USDC");
    const e = new Decimal(7760).times(40).div("4529.6").div(20000).times("0.999999");
    expect(usdc?.high?.toFixed(9)).toBe(new Decimal(1).plus(e).toFixed(9));
  });

  it("stops inside the current bracket and gives portfolio-margin accounts no band", () => {
    // Default BTC table: 0.4 BTC at 100,000 = 40,000 notional, bracket 1 (cap 50,000) → high ≤ 125,000.
    const portfolio = parse(
      portfolioDocument({
        accounts: [
          accountDocument({ collateral: { USDC: "10000000" }, positions: [perp("BTC", "0.4", "100000")] }),
          accountDocument({
            id: "pm",
            marginMode: "portfolio",
            collateral: { USDC: "100000" },
            positions: [perp("BTC", "1", "100000")],
          }),
        ],
      }),
    );
    const [standard, pm] = portfolio.accounts as [AccountBook, AccountBook];
    const { market, params } = portfolio;
    const btc = triggerBands(standard, market, params, marginTotals(standard, market, params)).find(
      (b) => b.asset === "BTC",
    );
    expect(btc?.high?.lte(125000)).toBe(true);
    expect(
      triggerBands(pm, market, params, marginTotals(pm, market, params)).every((b) => b.low === null),
    ).toBe(true);
  });
});

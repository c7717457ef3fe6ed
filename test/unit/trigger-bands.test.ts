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
import { accountArbitrary, documentOf, nearThresholds, pricesArbitrary } from "../helpers/arbitraries.ts";
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

/** The steered accounts, parsed at these prices. */
function nearThresholdsPortfolio(
  prices: Record<string, string>,
  drawn: { account: Parameters<typeof nearThresholds>[1][number]["account"]; ratio: number }[],
) {
  return parse(documentOf(prices, nearThresholds(prices, drawn)));
}

/** 1 BTC long at 100,000 on this much USDC, with one BTC bracket: IM = 10,000, MM = 1,000. */
function onePerp(usdc: string) {
  const portfolio = parse(
    portfolioDocument({
      params: { brackets: { BTC: [{ notionalCap: "1000000000", maxLeverage: "10", mmr: "0.01" }] } },
      accounts: [accountDocument({ collateral: { USDC: usdc }, positions: [perp("BTC", "1", "100000")] })],
    }),
  );
  const book = portfolio.accounts[0] as AccountBook;
  const { market, params } = portfolio;
  return { book, market, params, totals: marginTotals(book, market, params) };
}

describe("trigger bands", () => {
  it("the incremental engine (re-evaluate only accounts that leave a band) matches a full recompute at every step", () => {
    let skipped = 0;
    let total = 0;
    fc.assert(
      fc.property(
        pricesArbitrary,
        fc.array(fc.tuple(accountArbitrary("x"), fc.double({ min: 0.85, max: 1.45, noNaN: true })), {
          minLength: 1,
          maxLength: 8,
        }),
        pathArbitrary,
        (prices, drawn, path) => {
          const portfolio = nearThresholdsPortfolio(
            prices,
            drawn.map(([a, ratio], i) => ({ account: { ...a, id: `a-${i}` }, ratio })),
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
            incremental.set(book.id, { status, bands: triggerBands(book, market, params, totals, status) });
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
                incremental.set(book.id, {
                  status,
                  bands: triggerBands(book, market, params, totals, status),
                });
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

  it("no corner of the bands' box changes the status, before and after a move", () => {
    fc.assert(
      fc.property(
        pricesArbitrary,
        accountArbitrary("a"),
        fc.double({ min: 0.85, max: 1.45, noNaN: true }),
        pathArbitrary.map((path) => path[0] as Record<string, number>),
        (prices, account, ratio, moves) => {
          const portfolio = nearThresholdsPortfolio(prices, [{ account, ratio }]);
          const book = portfolio.accounts[0] as AccountBook;
          const { params } = portfolio;
          const totals0 = marginTotals(book, portfolio.market, params);
          const status0 = nextStatus(null, totals0, params);
          const bands0 = triggerBands(book, portfolio.market, params, totals0, status0);
          const market1 = moved(portfolio.market, moves);
          const totals1 = marginTotals(book, market1, params);
          const status1 = nextStatus(status0, totals1, params);
          const bands1 = triggerBands(book, market1, params, totals1, status1);
          for (const [market, status, bands] of [
            [portfolio.market, status0, bands0],
            [market1, status1, bands1],
          ] as const) {
            const edges = bands.filter((band) => band.low !== null && band.high !== null);
            if (edges.length < bands.length) continue;
            for (let corner = 0; corner < 2 ** edges.length; corner++) {
              const quotes = new Map(market.quotes);
              edges.forEach((band, i) => {
                // An unbounded side is probed far out: 1,000× the price up, 1/1,000 of it down.
                const price = market.quotes.get(band.asset)?.mark ?? new Decimal(1);
                const high = band.high?.isFinite() ? band.high : price.times(1000);
                const low = band.low?.isZero() ? price.div(1000) : band.low;
                const edge = (corner >> i) & 1 ? high : low;
                if (edge) quotes.set(band.asset, { index: edge, mark: edge });
              });
              const totals = marginTotals(book, { ...market, quotes }, params);
              expect(nextStatus(status, totals, params), `corner ${corner} of ${JSON.stringify(bands)}`).toBe(
                status,
              );
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a long perp on USDC: the band reaches down as far as the status's margin allows, and far up", () => {
    // One bracket: IM = P/10, MM = 0.01·P; 1 BTC long at 100,000 on 20,000 USDC: E = 20,000, IM = 10,000.
    // HEALTHY (w = 0.2) changes only below 1.2·IM: one margin h = E − 1.2·IM, budget 8,000.
    // Per unit of price h changes at: BTC 1 − 1.2 × 0.1 = 0.88 (it falls only when BTC falls);
    // USDC in [0, 20,000] (haircut tiers), so up to 20,000 when USDC falls. Neither loses going up.
    // Weights (loss / budget × price × typical move): BTC 0.88 / 8,000 × 100,000 × 0.04 (the stress
    // dailyVol) = 0.44; USDC 20,000 / 8,000 × 1 × 0.002 = 0.005. Shares of 8,000: 0.44/0.445, 0.005/0.445.
    const { book, market, params, totals } = onePerp("20000");
    const bands = triggerBands(book, market, params, totals, "HEALTHY");
    const btc = bands.find((b) => b.asset === "BTC");
    const down = new Decimal(8000).times("0.44").div("0.445").div("0.88").times("0.999999");
    expect(btc?.low?.toFixed(6)).toBe(new Decimal(100000).minus(down).toFixed(6));
    // 7,910.11 / 0.88 ≈ 8,989: 8.99% down, against ±7,080 with one symmetric rate (1 + 1.2 × 0.1).
    expect(down.round().toNumber()).toBe(8989);
    // Nothing is lost going up (and the one bracket has no edge): the band is unbounded above.
    expect(btc?.high?.toFixed()).toBe("Infinity");
    const usdc = bands.find((b) => b.asset === "USDC");
    const e = new Decimal(8000).times("0.005").div("0.445").div(20000).times("0.999999");
    expect(usdc?.low?.toFixed(9)).toBe(new Decimal(1).minus(e).toFixed(9));
    expect(usdc?.high?.toFixed()).toBe("Infinity");
  });

  it("spends only the margins of the status held: the threshold below it and its cure threshold above", () => {
    // 11,000 USDC: E = 11,000, IM = 10,000, MM = 1,000: WARNING (10,000 ≤ E < 12,000).
    // WARNING worsens below IM (h = E − IM = 1,000) and cures above 1.2 × 1.02 × IM
    // (h = 12,240 − E = 1,240). (The other thresholds, e.g. MARGIN_CALL's cure at 1.02·IM = 10,200,
    // 800 away, cannot change a WARNING.)
    // Per unit: BTC lowers E − IM by 1 − 0.1 = 0.9 going down; raises E − 1.224·IM by 1 − 0.1224 = 0.8776
    // going up (toward the cure). USDC: 11,000 either way. Weights: BTC 100,000 × 0.04 ×
    // max(0.9/1,000, 0.8776/1,240) = 3.6; USDC 0.002 × max(11,000/1,000, 11,000/1,240) = 0.022.
    const warning = onePerp("11000");
    const btc = triggerBands(warning.book, warning.market, warning.params, warning.totals, "WARNING").find(
      (b) => b.asset === "BTC",
    );
    const down = new Decimal(1000).times("3.6").div("3.622").div("0.9").times("0.999999");
    const up = new Decimal(1240).times("3.6").div("3.622").div("0.8776").times("0.999999");
    expect(btc?.low?.toFixed(6)).toBe(new Decimal(100000).minus(down).toFixed(6));
    expect(btc?.high?.toFixed(6)).toBe(new Decimal(100000).plus(up).toFixed(6));
    expect([down.round().toNumber(), up.round().toNumber()]).toEqual([1104, 1404]);

    // 10,100 USDC held in MARGIN_CALL by hysteresis (E ≥ IM, but short of the cure 1.02·IM = 10,200):
    // margins E − MM = 9,100 (BTC 0.99 per unit down) and 10,200 − E = 100 (BTC 1 − 0.102 = 0.898
    // per unit up). Weights: BTC 4,000 × max(0.99/9,100, 0.898/100) = 35.92; USDC 0.002 × 10,100/100 = 0.202.
    const held = onePerp("10100");
    const cure = triggerBands(held.book, held.market, held.params, held.totals, "MARGIN_CALL").find(
      (b) => b.asset === "BTC",
    );
    const u = new Decimal(100).times("35.92").div("36.122").div("0.898").times("0.999999");
    expect(cure?.high?.toFixed(6)).toBe(new Decimal(100000).plus(u).toFixed(6));

    // Totals that do not hold the status given (HEALTHY at E < 1.2·IM) get no band.
    expect(
      triggerBands(warning.book, warning.market, warning.params, warning.totals, "HEALTHY").every(
        (b) => b.low === null && b.high === null,
      ),
    ).toBe(true);
  });

  it("a long call priced by Black-76 can lose up to its whole size per unit of a fall (delta ≤ 1)", () => {
    // The perp of the first case plus 1 long BTC call (strike 80,000, no markPrice, vol 0.55) on
    // 20,000 USDC. Per unit of a fall, E − 1.2·IM loses at most 0.88 (the perp) + 1 (the call's
    // delta bound) = 1.88; USDC up to 20,000; neither loses on a rise. B = E − 1.2·IM from the totals.
    const portfolio = parse(
      portfolioDocument({
        volatility: { BTC: "0.55" },
        params: { brackets: { BTC: [{ notionalCap: "1000000000", maxLeverage: "10", mmr: "0.01" }] } },
        accounts: [
          accountDocument({
            collateral: { USDC: "20000" },
            positions: [
              perp("BTC", "1", "100000"),
              {
                instrument: "BTC-C-80000",
                type: "option",
                underlying: "BTC",
                optionType: "call",
                strike: "80000",
                expiry: "2026-03-27T08:00:00Z",
                size: "1",
              },
            ],
          }),
        ],
      }),
    );
    const book = portfolio.accounts[0] as AccountBook;
    const { market, params } = portfolio;
    const totals = marginTotals(book, market, params);
    const budget = totals.equity.minus(totals.initialMargin.times("1.2"));
    const btcWeight = new Decimal("1.88").div(budget).times(100000).times("0.04");
    const usdcWeight = new Decimal(20000).div(budget).times("0.002");
    const down = budget.times(btcWeight).div(btcWeight.plus(usdcWeight)).div("1.88").times("0.999999");
    const btc = triggerBands(book, market, params, totals, "HEALTHY").find((b) => b.asset === "BTC");
    expect(btc?.low?.toFixed(4)).toBe(new Decimal(100000).minus(down).toFixed(4));
    expect(btc?.high?.toFixed()).toBe("Infinity");
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
    const btc = triggerBands(
      standard,
      market,
      params,
      marginTotals(standard, market, params),
      "HEALTHY",
    ).find((b) => b.asset === "BTC");
    expect(btc?.high?.lte(125000)).toBe(true);
    expect(
      triggerBands(pm, market, params, marginTotals(pm, market, params), "HEALTHY").every(
        (b) => b.low === null,
      ),
    ).toBe(true);
  });
});

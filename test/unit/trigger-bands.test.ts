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

/**
 * Random accounts are mostly far from any threshold, where no band is ever tested. Each is given
 * the USDC that puts its equity at `ratio` × its IM (0.85–1.45 spans MARGIN_CALL, WARNING and the
 * cure thresholds), so price paths cross thresholds often.
 */
function nearThresholds(prices: Record<string, string>, drawn: { account: Account; ratio: number }[]) {
  const first = parse(
    documentOf(
      prices,
      drawn.map((d) => d.account),
    ),
  );
  const steered = drawn.map(({ account, ratio }, i) => {
    const book = first.accounts[i] as AccountBook;
    const totals = marginTotals(book, first.market, first.params);
    const usdc = new Decimal(account.collateral.USDC ?? 0)
      .plus(totals.initialMargin.times(ratio).minus(totals.equity))
      .toDecimalPlaces(2);
    return { ...account, collateral: { ...account.collateral, USDC: usdc.toFixed() } };
  });
  return parse(documentOf(prices, steered));
}

type Account = { id: string; collateral: Record<string, string> } & Record<string, unknown>;

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
          const portfolio = nearThresholds(
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

  it("a long perp on USDC: the band is the price move that uses up the status's margin, split by expected dollar move", () => {
    // One bracket: IM = P/10, MM = 0.01·P; 1 BTC long at 100,000 on 20,000 USDC: E = 20,000, IM = 10,000.
    // HEALTHY (w = 0.2, cure = 0.02) changes only below (1 + w)·IM: B = 20,000 − 12,000 = 8,000, f = 1.2.
    // Rates: BTC 1 + 1.2 × max(1/10, 0.01) = 1.12; USDC 20,000.
    // Weights (rate × price × typical move): BTC 1.12 × 100,000 × 0.04 (the stress dailyVol) = 4,480;
    // USDC 20,000 × 1 × 0.002 = 40. Shares: 8,000 × 4,480 / 4,520 and 8,000 × 40 / 4,520.
    const { book, market, params, totals } = onePerp("20000");
    const bands = triggerBands(book, market, params, totals, "HEALTHY");
    const btc = bands.find((b) => b.asset === "BTC");
    const d = new Decimal(8000).times(4480).div(4520).div("1.12").times("0.999999");
    expect(btc?.low?.toFixed(6)).toBe(new Decimal(100000).minus(d).toFixed(6));
    expect(btc?.high?.toFixed(6)).toBe(new Decimal(100000).plus(d).toFixed(6));
    // 7,929.20 / 1.12 ≈ ±7,080: 7.08% either way, against 4,000 / 1.12 ≈ ±3,571 with an even split.
    expect(d.round().toNumber()).toBe(7080);
    const usdc = bands.find((b) => b.asset === "USDC");
    const e = new Decimal(8000).times(40).div(4520).div(20000).times("0.999999");
    expect(usdc?.high?.toFixed(9)).toBe(new Decimal(1).plus(e).toFixed(9));
  });

  it("spends only the margins of the status held: the threshold below it and its cure threshold above", () => {
    // 11,000 USDC: E = 11,000, IM = 10,000, MM = 1,000: WARNING (10,000 ≤ E < 12,000).
    // WARNING worsens below IM (11,000 − 10,000 = 1,000) and cures above 1.2 × 1.02 × IM
    // (12,240 − 11,000 = 1,240): B = 1,000, f = 1.224. (The other six thresholds, e.g. the cure
    // threshold of MARGIN_CALL 1.02·IM = 10,200, 800 away, cannot change a WARNING.)
    // BTC rate 1 + 1.224 × 0.1 = 1.1224, weight 4,489.6; USDC weight 11,000 × 0.002 = 22.
    const warning = onePerp("11000");
    const btc = triggerBands(warning.book, warning.market, warning.params, warning.totals, "WARNING").find(
      (b) => b.asset === "BTC",
    );
    const d = new Decimal(1000).times("4489.6").div("4511.6").div("1.1224").times("0.999999");
    expect(btc?.low?.toFixed(6)).toBe(new Decimal(100000).minus(d).toFixed(6));
    expect(d.round().toNumber()).toBe(887);

    // 10,100 USDC held in MARGIN_CALL by hysteresis (E ≥ IM, but short of the cure 10,200):
    // B = min(10,100 − 1,000, 10,200 − 10,100) = 100, f = 1.02: rate 1.102, weights 4,408 and 20.2.
    const held = onePerp("10100");
    const up = triggerBands(held.book, held.market, held.params, held.totals, "MARGIN_CALL").find(
      (b) => b.asset === "BTC",
    );
    const u = new Decimal(100).times(4408).div("4428.2").div("1.102").times("0.999999");
    expect(up?.high?.toFixed(6)).toBe(new Decimal(100000).plus(u).toFixed(6));

    // Totals that do not hold the status given (HEALTHY at E < 1.2·IM) get no band.
    expect(
      triggerBands(warning.book, warning.market, warning.params, warning.totals, "HEALTHY").every(
        (b) => b.low === null && b.high === null,
      ),
    ).toBe(true);
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

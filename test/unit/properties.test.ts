import {
  accountRisk,
  Decimal,
  evaluatePortfolio,
  gridMoves,
  liquidationPrice,
  marginTotals,
  STATUSES,
  withMark,
} from "@backing/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  accountArbitrary,
  cumulativeFundingArbitrary,
  decimalString,
  documentOf,
  pricesArbitrary,
  settledDocument,
} from "../helpers/arbitraries.ts";
import { parse } from "../helpers/portfolio.ts";

const RUNS = { numRuns: 150 };

describe("risk core properties", () => {
  it("IM ≥ MM ≥ 0 for every account and position, in both margin models", () => {
    fc.assert(
      fc.property(
        pricesArbitrary,
        fc.constantFrom("standard", "portfolio"),
        accountArbitrary("a").chain((a) => fc.constant(a)),
        (prices, marginMode, account) => {
          const portfolio = parse(documentOf(prices, [{ ...account, marginMode }]));
          const book = portfolio.accounts[0];
          if (!book) return;
          const risk = accountRisk(book, portfolio.market, portfolio.params);
          expect(risk.maintenanceMargin.gte(0)).toBe(true);
          expect(risk.initialMargin.gte(risk.maintenanceMargin)).toBe(true);
          for (const p of risk.positions) {
            expect(p.maintenanceMargin.gte(0)).toBe(true);
            expect(p.initialMargin.gte(p.maintenanceMargin)).toBe(true);
          }
        },
      ),
      RUNS,
    );
  });

  it("the fast kernel's totals equal the per-position evaluation exactly, at any mark", () => {
    fc.assert(
      fc.property(
        pricesArbitrary,
        fc.constantFrom("standard", "portfolio"),
        accountArbitrary("a"),
        fc.constantFrom("BTC", "ETH", "SOL"),
        fc.constantFrom(0.5, 0.9, 0.999999999999, 1, 1.000000000001, 1.1, 3),
        cumulativeFundingArbitrary,
        (prices, marginMode, account, asset, factor, cumulative) => {
          const portfolio = parse(settledDocument(prices, { ...account, marginMode }, cumulative));
          const book = portfolio.accounts[0];
          if (!book) return;
          for (const market of [
            portfolio.market,
            withMark(portfolio.market, asset, new Decimal(prices[asset as "BTC"]).times(factor)),
          ]) {
            const detailed = accountRisk(book, market, portfolio.params);
            const fast = marginTotals(book, market, portfolio.params);
            for (const key of [
              "collateralValue",
              "unrealizedPnl",
              "optionValue",
              "equity",
              "initialMargin",
              "maintenanceMargin",
            ] as const) {
              // Exact to the digit, except that a non-terminating division (IM at 75× or 3×) rounds
              // at 50 significant digits and the two paths add those quotients in another order.
              expect(fast[key].toDecimalPlaces(30).toFixed(), key).toBe(
                detailed[key].toDecimalPlaces(30).toFixed(),
              );
            }
          }
        },
      ),
      RUNS,
    );
  });

  it("decides brackets and haircut tiers exactly at their edges", () => {
    // A notional exactly at a cap, and one 1e-18 above it (the finest accepted digit), where float64 cannot tell them apart.
    for (const mark of ["50000", "50000.000000000000000001"]) {
      const portfolio = parse(
        documentOf({ BTC: mark, ETH: "3000", SOL: "150", stETH: "2900" }, [
          {
            id: "a",
            venue: "v",
            collateral: { BTC: "2000" },
            positions: [{ instrument: "P", type: "perp", underlying: "BTC", size: "1", entryPrice: "50000" }],
          },
        ]),
      );
      const book = portfolio.accounts[0];
      if (!book) throw new Error("no book");
      const fast = marginTotals(book, portfolio.market, portfolio.params);
      const detailed = accountRisk(book, portfolio.market, portfolio.params);
      expect(fast.initialMargin.toFixed()).toBe(detailed.initialMargin.toFixed());
      expect(fast.collateralValue.toFixed()).toBe(detailed.collateralValue.toFixed());
    }
  });

  it("the float-guided liquidation solves agree with the exact bracket walk and search", () => {
    fc.assert(
      fc.property(pricesArbitrary, accountArbitrary("a"), (prices, account) => {
        const portfolio = parse(documentOf(prices, [account]));
        const book = portfolio.accounts[0];
        if (!book) return;
        for (const underlying of new Set(book.positions.map((p) => p.underlying))) {
          const fast = liquidationPrice(book, portfolio.market, portfolio.params, underlying, false);
          const walked = liquidationPrice(book, portfolio.market, portfolio.params, underlying, true);
          expect(fast.direction).toBe(walked.direction);
          if (walked.method === "bracketed-search") {
            // Black-76 options: a float64 search certified exactly to 1e-12 against the exact search's 1e-14.
            expect(fast.price === null).toBe(walked.price === null);
            if (fast.price && walked.price)
              expect(fast.price.minus(walked.price).abs().lte(walked.price.times("1e-11"))).toBe(true);
            continue;
          }
          expect(fast.price?.toDecimalPlaces(30).toFixed() ?? null).toBe(
            walked.price?.toDecimalPlaces(30).toFixed() ?? null,
          );
        }
      }),
      { numRuns: 300 },
    );
  });

  it("a Black-76 liquidation price is certified: the exact excess changes sign within ±1e-12 of it", () => {
    // The certificate reads the excess's sign from float64 when it is clear of the rounding bound;
    // here the signs are recomputed exactly (the kernel at the two marks) and must agree.
    fc.assert(
      fc.property(pricesArbitrary, accountArbitrary("a"), (prices, account) => {
        const portfolio = parse(documentOf(prices, [account]));
        const book = portfolio.accounts[0];
        if (!book) return;
        const { market, params } = portfolio;
        for (const underlying of new Set(book.positions.map((p) => p.underlying))) {
          const solution = liquidationPrice(book, market, params, underlying, false);
          if (solution.method !== "bracketed-search" || !solution.price) continue;
          const excessAt = (factor: string) => {
            const totals = marginTotals(
              book,
              withMark(market, underlying, solution.price?.times(factor) as Decimal),
              params,
            );
            return totals.equity.minus(totals.maintenanceMargin);
          };
          const below = excessAt("0.999999999999");
          const above = excessAt("1.000000000001");
          if (solution.direction === 1) expect(below.lt(0) && above.gte(0)).toBe(true);
          else expect(below.gte(0) && above.lt(0)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("more collateral never worsens the status", () => {
    fc.assert(
      fc.property(
        pricesArbitrary,
        accountArbitrary("a"),
        decimalString(0, 1000000, 2),
        (prices, account, extra) => {
          const before = evaluatePortfolio(parse(documentOf(prices, [account]))).accounts[0];
          const usdc = new Decimal(account.collateral.USDC ?? "0").plus(extra).toFixed();
          const richer = { ...account, collateral: { ...account.collateral, USDC: usdc } };
          const after = evaluatePortfolio(parse(documentOf(prices, [richer]))).accounts[0];
          if (!before || !after) throw new Error("missing account");
          expect(STATUSES.indexOf(after.status)).toBeGreaterThanOrEqual(STATUSES.indexOf(before.status));
        },
      ),
      RUNS,
    );
  });

  it("equity never falls when the mark of a long-only book's underlying rises", () => {
    fc.assert(
      fc.property(
        pricesArbitrary,
        accountArbitrary("a", { longOnly: true }),
        fc.constantFrom("BTC", "ETH", "SOL"),
        fc.double({ min: 0.001, max: 0.5, noNaN: true }),
        (prices, account, asset, rise) => {
          const portfolio = parse(documentOf(prices, [account]));
          const book = portfolio.accounts[0];
          if (!book) return;
          const mark = portfolio.market.quotes.get(asset)?.mark ?? new Decimal(0);
          const higher = withMark(portfolio.market, asset, mark.times(1 + rise));
          const equityBefore = accountRisk(book, portfolio.market, portfolio.params).equity;
          const equityAfter = accountRisk(book, higher, portfolio.params).equity;
          // Black-76 marks convert through 15 significant digits: allow that much noise.
          expect(equityAfter.minus(equityBefore).toNumber()).toBeGreaterThanOrEqual(-1e-6);
        },
      ),
      RUNS,
    );
  });

  it("is deterministic and independent of account, position and collateral order", () => {
    fc.assert(
      fc.property(
        pricesArbitrary,
        fc.tuple(accountArbitrary("a"), accountArbitrary("b"), accountArbitrary("c")),
        fc.infiniteStream(fc.boolean()),
        (prices, accounts, coin) => {
          const shuffle = <T>(items: T[]) => [...items].sort(() => (coin.next().value ? 1 : -1));
          const permuted = shuffle(accounts).map((a) => ({
            ...a,
            positions: shuffle(a.positions),
            collateral: Object.fromEntries(shuffle(Object.entries(a.collateral))),
          }));
          const byId = (document: unknown) => {
            const output = evaluatePortfolio(parse(document));
            return Object.fromEntries(
              output.accounts.map((a) => [
                a.id,
                {
                  ...a,
                  positions: [...a.positions].sort((x, y) => x.instrument.localeCompare(y.instrument)),
                },
              ]),
            );
          };
          const original = byId(documentOf(prices, accounts));
          expect(byId(documentOf(prices, permuted))).toEqual(original);
          expect(byId(documentOf(prices, accounts))).toEqual(original);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("prints the same figures for a book listed in another order (cases the property once found)", () => {
    // Short perps whose IM divides by a non-terminating leverage (sums of rounded quotients), and
    // a book whose BTC liquidation price is solved in float64 (sums in listing order).
    const perp = (
      instrument: string,
      underlying: string,
      size: string,
      entryPrice: string,
      funding = "0",
    ) => ({
      instrument,
      type: "perp",
      underlying,
      size,
      entryPrice,
      funding,
    });
    const call = (instrument: string, size: string, markPrice?: string) => ({
      instrument,
      type: "option",
      underlying: "BTC",
      optionType: "call",
      strike: "60000",
      expiry: "2026-03-27T08:00:00Z",
      size,
      ...(markPrice ? { markPrice } : {}),
    });
    const cases = [
      {
        prices: { BTC: "20000", ETH: "500.02", SOL: "10", stETH: "400" },
        collateral: {},
        positions: [
          perp("L0-ETH-perp", "ETH", "-26.027", "2100.00"),
          perp("L1-BTC-perp", "BTC", "0.0000", "70000.00"),
          perp("L2-ETH-perp", "ETH", "-35.171", "2100.00"),
          perp("L3-BTC-perp", "BTC", "-3.6465", "70000.00"),
          perp("L4-ETH-perp", "ETH", "-40.604", "2100.00"),
        ],
      },
      {
        prices: { BTC: "20000", ETH: "500", SOL: "10", stETH: "2694.33" },
        collateral: { USDC: "0.1", USDT: "262865.73", BTC: "0.00000009", stETH: "0.000006" },
        positions: [
          perp("L0-SOL-perp", "SOL", "12.467", "137.32", "499.92"),
          perp("L1-BTC-perp", "BTC", "-0.0009", "70000.00", "368.19"),
          perp("L2-BTC-perp", "BTC", "4.7471", "70000.00", "480.8"),
          perp("L3-BTC-perp", "BTC", "-4.9985", "130000.00", "-149.95"),
          { ...call("O0-BTC-put", "-2.4"), optionType: "put" },
          call("O1-BTC-call", "-4.8", "17499.77"),
          call("O2-BTC-call", "2.4", "6742.92"),
        ],
      },
    ];
    for (const { prices, collateral, positions } of cases) {
      const figures = (listed: unknown[]) => {
        const [account] = evaluatePortfolio(
          parse(documentOf(prices, [{ id: "a", venue: "v", collateral, positions: listed }])),
        ).accounts;
        return {
          ...account,
          positions: [...(account?.positions ?? [])].sort((x, y) => x.instrument.localeCompare(y.instrument)),
        };
      };
      const listed = figures(positions);
      for (let r = 1; r < positions.length; r++) {
        const rotated = [...positions.slice(r), ...positions.slice(0, r)];
        expect(figures(rotated)).toEqual(listed);
        expect(figures([...rotated].reverse())).toEqual(listed);
      }
    }
  });

  it("a price move inside the portfolio grid never loses more than the PM maintenance margin of a linear book", () => {
    fc.assert(
      fc.property(
        pricesArbitrary,
        accountArbitrary("a", { withOptions: false, marginMode: "portfolio" }),
        fc.double({ min: -1, max: 1, noNaN: true }),
        fc.nat(),
        (prices, account, fraction, pick) => {
          const portfolio = parse(documentOf(prices, [account]));
          const book = portfolio.accounts[0];
          // The grid covers the underlyings of the book's positions (and collateral held in them);
          // collateral in other assets is protected by its haircut instead.
          const underlyings = [...new Set(book?.positions.map((p) => p.underlying))];
          const asset = underlyings[pick % Math.max(underlyings.length, 1)];
          if (!book || !asset) return;
          const range = portfolio.params.portfolio.priceRange;
          expect(gridMoves(portfolio.params).at(-1)?.eq(range)).toBe(true);
          const before = accountRisk(book, portfolio.market, portfolio.params);
          const move = range.times(fraction.toFixed(6));
          const quote = portfolio.market.quotes.get(asset);
          if (!quote) return;
          // The whole asset moves: mark and index (collateral held in it is in the grid too).
          const quotes = new Map(portfolio.market.quotes);
          quotes.set(asset, { index: quote.index.times(move.plus(1)), mark: quote.mark.times(move.plus(1)) });
          const after = accountRisk(book, { ...portfolio.market, quotes }, portfolio.params);
          const loss = before.equity.minus(after.equity);
          expect(loss.lte(before.maintenanceMargin)).toBe(true);
        },
      ),
      RUNS,
    );
  });
});

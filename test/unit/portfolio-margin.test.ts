import { accountRisk, black76Price, Decimal, evaluatePortfolio, gridMoves, withMark } from "@backing/core";
import { describe, expect, it } from "vitest";
import { accountDocument, parse, perp, portfolioDocument, single } from "../helpers/portfolio.ts";

describe("portfolio margin grid", () => {
  it("has 2 × buckets + 1 evenly spaced moves including 0: ±16% in 4% steps by default", () => {
    const { params } = single({});
    expect(gridMoves(params).map((m) => m.toFixed())).toEqual([
      "-0.16",
      "-0.12",
      "-0.08",
      "-0.04",
      "0",
      "0.04",
      "0.08",
      "0.12",
      "0.16",
    ]);
  });

  it("long 1 BTC perp at 100,000: worst move −16% → MM 16,000, IM = 16,000 / 0.8 = 20,000", () => {
    const { book, market, params } = single({
      marginMode: "portfolio",
      collateral: { USDC: "50000" },
      positions: [perp("BTC", "1", "100000")],
    });
    const risk = accountRisk(book, market, params);
    expect(risk.maintenanceMargin.toFixed()).toBe("16000");
    expect(risk.initialMargin.toFixed()).toBe("20000");
  });

  it("Dederi's example: 10 ETH futures at F₀ 2,253.2, ±15% in 3% steps → PnL ±675.96 at ±3%, MM 3,379.8", () => {
    // reference §2.3: "Simulated PnL = Δk·Q·F₀: ±3% → ±676, ±15% → ±3,380"
    const { book, market, params } = single(
      {
        marginMode: "portfolio",
        collateral: { USDC: "10000" },
        positions: [
          {
            instrument: "ETH-F",
            type: "future",
            underlying: "ETH",
            size: "10",
            entryPrice: "2253.2",
            expiry: "2026-02-04T08:00:00Z",
          },
        ],
      },
      {
        prices: { ETH: { index: "2243.3", mark: "2253.2" }, USDC: { index: "1" } },
        params: { portfolio: { priceRange: "0.15", buckets: 5 } },
      },
    );
    const risk = accountRisk(book, market, params, true);
    const scenarios = risk.portfolio?.[0]?.scenarios ?? [];
    const at = (move: string) => scenarios.find((s) => s.move.eq(move) && s.vol === "same")?.pnl.toFixed();
    expect(at("-0.03")).toBe("-675.96");
    expect(at("0.03")).toBe("675.96");
    expect(at("0.15")).toBe("3379.8");
    expect(risk.maintenanceMargin.toFixed()).toBe("3379.8");
  });

  it("a hedged book (long perp, short future, same size) needs no grid margin", () => {
    const { book, market, params } = single({
      marginMode: "portfolio",
      collateral: { USDC: "1000" },
      positions: [
        perp("BTC", "2", "100000"),
        {
          instrument: "BTC-F",
          type: "future",
          underlying: "BTC",
          size: "-2",
          entryPrice: "100000",
          expiry: "2026-06-26T08:00:00Z",
        },
      ],
    });
    expect(accountRisk(book, market, params).maintenanceMargin.toFixed()).toBe("0");
  });

  it("BTC collateral sits in the BTC grid un-haircut: 1 BTC held against a 1 BTC short perp is flat", () => {
    const { book, market, params } = single({
      marginMode: "portfolio",
      collateral: { BTC: "1" },
      positions: [perp("BTC", "-1", "100000")],
    });
    const risk = accountRisk(book, market, params);
    expect(risk.maintenanceMargin.toFixed()).toBe("0");
    expect(risk.collateralValue.toFixed()).toBe("100000");
  });

  it("short call: MM is the worst Black-76 loss over moves × vol shifts plus 1% of S per net short unit", () => {
    const years =
      (Date.parse("2026-03-27T08:00:00Z") - Date.parse("2026-01-15T00:00:00Z")) / (365 * 86400000);
    const { book, market, params } = single(
      {
        marginMode: "portfolio",
        collateral: { USDC: "100000" },
        positions: [
          {
            instrument: "C",
            type: "option",
            underlying: "BTC",
            optionType: "call",
            strike: "110000",
            expiry: "2026-03-27T08:00:00Z",
            size: "-1",
          },
        ],
      },
      { volatility: { BTC: "0.5" } },
    );
    // Expected from the grid definition, priced independently with Black-76 (tested against Haug):
    const base = black76Price("call", 100000, 110000, years, 0.5);
    let worst = 0;
    for (let i = -4; i <= 4; i++) {
      for (const vol of [0.5 * 1.5, 0.5, 0.5 * 0.75]) {
        worst = Math.min(worst, -(black76Price("call", 100000 * (1 + 0.04 * i), 110000, years, vol) - base));
      }
    }
    // The worst case of a short call is the largest up-move with vol up.
    expect(-worst).toBeCloseTo(black76Price("call", 116000, 110000, years, 0.75) - base, 9);
    const risk = accountRisk(book, market, params);
    expect(risk.maintenanceMargin.toNumber()).toBeCloseTo(-worst + 0.01 * 100000, 6);
    expect(risk.initialMargin.toNumber()).toBeCloseTo((-worst + 1000) / 0.8, 6);
  });

  it("a long option can lose at most its premium", () => {
    const { book, market, params } = single({
      marginMode: "portfolio",
      collateral: { USDC: "100000" },
      positions: [
        {
          instrument: "P",
          type: "option",
          underlying: "BTC",
          optionType: "put",
          strike: "60000",
          expiry: "2026-01-22T08:00:00Z",
          size: "1",
          markPrice: "12",
        },
      ],
    });
    const risk = accountRisk(book, market, params);
    expect(risk.maintenanceMargin.toNumber()).toBeGreaterThan(0);
    expect(risk.maintenanceMargin.toNumber()).toBeLessThanOrEqual(12 + 1e-9);
  });
});

describe("liquidation price with Black-76 options (bracketed search)", () => {
  it("returns a mark at which equity = MM to 1e-9 relative", () => {
    const document = portfolioDocument({
      volatility: { BTC: "0.6" },
      accounts: [
        accountDocument({
          collateral: { USDC: "60000" },
          positions: [
            perp("BTC", "1", "100000"),
            {
              instrument: "C",
              type: "option",
              underlying: "BTC",
              optionType: "call",
              strike: "120000",
              expiry: "2026-03-27T08:00:00Z",
              size: "-2",
            },
          ],
        }),
      ],
    });
    const portfolio = parse(document);
    const price = evaluatePortfolio(portfolio).accounts[0]?.positions[0]?.liquidationPrice;
    expect(price).not.toBeNull();
    const book = portfolio.accounts[0];
    if (!book || !price) throw new Error("unreachable");
    const risk = accountRisk(book, withMark(portfolio.market, "BTC", new Decimal(price)), portfolio.params);
    const gap = risk.equity.minus(risk.maintenanceMargin).abs().div(risk.maintenanceMargin);
    expect(gap.toNumber()).toBeLessThan(1e-9);
  });
});

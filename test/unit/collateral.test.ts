import { accountRisk, buildHaircutTiers, Decimal, valueBalance } from "@backing/core";
import { describe, expect, it } from "vitest";
import { single } from "../helpers/portfolio.ts";

const surcharge = new Decimal("0.1");

function counted(tiers: { upTo: string | null; haircut: string }[], amount: string, index: string) {
  return valueBalance(
    "X",
    new Decimal(amount),
    new Decimal(index),
    buildHaircutTiers(tiers),
    surcharge,
    true,
  );
}

// Binance's "Token X" tiered collateral ratios (reference §1.3): 100% to 0.5M, 90% to 1M, 80% to
// 2M, 60% to 4M, 30% to 7M, 10% above: haircuts 0, 0.1, 0.2, 0.4, 0.7, 0.9.
const TOKEN_X = [
  { upTo: "500000", haircut: "0" },
  { upTo: "1000000", haircut: "0.1" },
  { upTo: "2000000", haircut: "0.2" },
  { upTo: "4000000", haircut: "0.4" },
  { upTo: "7000000", haircut: "0.7" },
  { upTo: null, haircut: "0.9" },
];

describe("tiered haircuts, marginal like tax brackets", () => {
  it("$5M of token X counts 0.5 + 0.45 + 0.8 + 1.2 + 0.3 = $3.25M", () => {
    const line = counted(TOKEN_X, "5000000", "1");
    expect(line.counted.toFixed()).toBe("3250000");
    expect(line.slices?.map((s) => s.counted.toFixed())).toEqual([
      "500000",
      "450000",
      "800000",
      "1200000",
      "300000",
    ]);
  });

  it("a value exactly at a tier edge takes nothing from the next tier: $1M → 0.5 + 0.45", () => {
    const line = counted(TOKEN_X, "1000000", "1");
    expect(line.counted.toFixed()).toBe("950000");
    expect(line.slices).toHaveLength(2);
  });

  it("one dollar past the edge counts at the next tier's rate: $1,000,001 → 950,000 + 0.8", () => {
    expect(counted(TOKEN_X, "1000001", "1").counted.toFixed()).toBe("950000.8");
  });

  it("a value past the last edge lands in the unbounded tier: $8M → $3.95M", () => {
    // 0.5 + 0.45 + 0.8 + 1.2 + 3 × 0.3 + 1 × 0.1 = 3.95M
    expect(counted(TOKEN_X, "8000000", "1").counted.toFixed()).toBe("3950000");
  });

  it("default BTC tiers: 1,500 BTC at $100,000 = $100M × 0.95 + $50M × 0.90 = $140M", () => {
    const { book, market, params } = single({ collateral: { BTC: "1500" } });
    expect(accountRisk(book, market, params).collateralValue.toFixed()).toBe("140000000");
  });

  it("Binance multi-assets: $1,000 of a 5% haircut asset is valued at $950", () => {
    expect(counted([{ upTo: null, haircut: "0.05" }], "1", "1000").counted.toFixed()).toBe("950");
  });
});

describe("liability surcharge", () => {
  it("a loan of 1,000 USDT counts −1,000 × 1.1 = −1,100", () => {
    expect(counted([{ upTo: null, haircut: "0.025" }], "-1000", "1").counted.toFixed()).toBe("-1100");
  });

  it("an account's loans and assets add up: 250,000 USDC + 1.5 BTC − 1,000 USDT = 250,000 + 142,500 − 1,100", () => {
    const { book, market, params } = single({ collateral: { USDC: "250000", BTC: "1.5", USDT: "-1000" } });
    expect(accountRisk(book, market, params).collateralValue.toFixed()).toBe("391400");
  });

  it("the surcharge follows the params override", () => {
    const { book, market, params } = single(
      { collateral: { ETH: "-2" } },
      { params: { liabilitySurcharge: "0.25" } },
    );
    // −2 × 3,000 × 1.25
    expect(accountRisk(book, market, params).collateralValue.toFixed()).toBe("-7500");
  });
});

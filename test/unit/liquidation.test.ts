import { evaluatePortfolio } from "@backing/core";
import { describe, expect, it } from "vitest";
import { accountDocument, parse, perp, portfolioDocument } from "../helpers/portfolio.ts";

function liquidationPrice(
  usdc: string,
  positions: unknown[],
  mark: string,
  extra: Record<string, unknown> = {},
) {
  const document = portfolioDocument({
    prices: { BTC: { index: mark }, USDC: { index: "1" } },
    accounts: [accountDocument({ collateral: { USDC: usdc }, positions })],
    ...extra,
  });
  return evaluatePortfolio(parse(document)).accounts[0]?.positions[0]?.liquidationPrice;
}

// Worked examples of reference/margin-methodology.md §1.2 (Binance 2021 BTC tiers, one position, so
// "cross" and "isolated" agree). Equity(P) = WB + size·(P − EP); MM(P) = |size|·P·mmr − cum.
describe("liquidation price", () => {
  it("long 1 BTC @ 50,000 with 5,000: tier 1 → 45,000 / 0.996 = 45,180.7228915…, rounded up", () => {
    expect(liquidationPrice("5000", [perp("BTC", "1", "50000")], "50000")).toBe("45180.72289157");
  });

  it("long 10 BTC @ 50,000 with 50,000: tier 3 → (500,000 − 50,000 − 1,300) / 9.9 = 45,323.2323…", () => {
    expect(liquidationPrice("50000", [perp("BTC", "10", "50000")], "50000")).toBe("45323.23232324");
  });

  it("long 1.2 BTC @ 50,000 with 15,000 moves down to tier 1 on the re-check", () => {
    // Tier 2 (start, notional 60,000): −44,950 = −1.194·P → P = 37,646.57, notional 45,175.9 < 50,000: wrong tier.
    // Tier 1: 15,000 + 1.2·P − 60,000 = 0.0048·P → P = 45,000 / 1.1952 = 37,650.6024096…
    expect(liquidationPrice("15000", [perp("BTC", "1.2", "50000")], "50000")).toBe("37650.60240964");
  });

  it("short 1 BTC @ 50,000 with 5,000 moves up to tier 2: (5,000 + 50 + 50,000) / 1.005 = 54,776.1194…, rounded down", () => {
    // Tier 1 (start, notional 50,000): 55,000 / 1.004 = 54,780.88 → notional past 50,000: wrong tier.
    expect(liquidationPrice("5000", [perp("BTC", "-1", "50000")], "50000")).toBe("54776.11940298");
  });

  it("is null when the account survives the price going to zero", () => {
    expect(liquidationPrice("60000", [perp("BTC", "1", "50000")], "50000")).toBeNull();
  });

  it("walks up the brackets for a hedged book whose MM meets its constant equity far away", () => {
    // Long perp + short future of the same size: equity is constant at 1,000,000 and
    // MM = 2 × (P·mmr − cum) grows with P. Solving bracket by bracket from the mark upwards:
    // tier 5 (5%, cum 266,300): 2·(0.05·P − 266,300) = 1,000,000 → P = 15,326,000, notional 15.3M ∈ (10M, 20M] ✓
    const positions = [
      perp("BTC", "1", "50000"),
      {
        instrument: "BTC-F",
        type: "future",
        underlying: "BTC",
        size: "-1",
        entryPrice: "50000",
        expiry: "2026-06-26T08:00:00Z",
      },
    ];
    expect(liquidationPrice("1000000", positions, "50000")).toBe("15326000");
  });

  it("counts accrued funding and the other positions of the account", () => {
    // Long 1 @ 50,000 with 5,000 and −500 funding: 4,500 + P − 50,000 = 0.004·P → P = 45,500 / 0.996
    expect(liquidationPrice("5000", [perp("BTC", "1", "50000", { funding: "-500" })], "50000")).toBe(
      "45682.7309237", // ceil of 45,682.7309236947…; trailing zeros are not printed
    );
  });
});

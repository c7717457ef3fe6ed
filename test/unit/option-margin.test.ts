import { accountRisk, black76 } from "@backing/core";
import { describe, expect, it } from "vitest";
import { btcOption as option, single } from "../helpers/portfolio.ts";

function figures(position: ReturnType<typeof option>, extra: Record<string, unknown> = {}) {
  const { book, market, params } = single({ positions: [position] }, extra);
  const risk = accountRisk(book, market, params);
  const [p] = risk.positions;
  return {
    im: p?.initialMargin.toFixed(),
    mm: p?.maintenanceMargin.toFixed(),
    value: p?.value.toFixed(),
    risk,
  };
}

// Deribit short-option formulas (reference §2.2) with the reference's DERIVED coin examples at
// S = 100,000, here in USD (coin × 100,000).
describe("short option margin", () => {
  it("short 90k put marked 0.015 BTC ($1,500): MM = max(7,500, 112.5) + 1,500 = 9,000; IM = max(10,000 + 1,500, 9,000) = 11,500", () => {
    // OTM = S − K = 10,000; 0.15·S − OTM = 5,000 < 0.10·S = 10,000
    expect(figures(option("put", "90000", "-1", "1500"))).toMatchObject({
      im: "11500",
      mm: "9000",
      value: "-1500",
    });
  });

  it("short ATM call marked 0.05 BTC ($5,000): IM = 15,000 + 5,000 = 20,000; MM = 7,500 + 5,000 = 12,500", () => {
    expect(figures(option("call", "100000", "-1", "5000"))).toMatchObject({ im: "20000", mm: "12500" });
  });

  it("multiplies by |size|: short 3 calls 110k marked 2,100 at S 100,050", () => {
    // OTM 9,950; 0.15·S − OTM = 5,057.5 < 0.10·S = 10,005 → IM/unit 12,105; MM/unit 7,503.75 + 2,100
    const result = figures(option("call", "110000", "-3", "2100"), {
      prices: { BTC: { index: "100000", mark: "100050" } },
    });
    expect(result).toMatchObject({ im: "36315", mm: "28811.25", value: "-6300" });
  });

  it("a deep ITM short call pays the first leg: K 80k at S 100k → IM/unit 15,000 + mark", () => {
    expect(figures(option("call", "80000", "-1", "20500")).im).toBe("35500");
  });

  it("a short put's MM floor uses the option mark when it exceeds S: 0.075 × max(S, mark)", () => {
    // Put struck far above spot, mark 150,000 > S: MM = 0.075 × 150,000 + 150,000 = 161,250
    const result = figures(option("put", "250000", "-1", "150000"));
    expect(result.mm).toBe("161250");
    // IM: OTM 0 → max(15,000, 10,000) + 150,000 = 165,000 ≥ MM
    expect(result.im).toBe("165000");
  });
});

describe("long options", () => {
  it("have no margin and add size × markPrice to equity", () => {
    const result = figures(option("put", "90000", "2", "1500"));
    expect(result).toMatchObject({ im: "0", mm: "0", value: "3000" });
    expect(result.risk.optionValue.toFixed()).toBe("3000");
  });
});

describe("Black-76 marking when markPrice is absent", () => {
  it("marks with F = underlying mark, r = 0, T in 365-day years, σ from volatility", () => {
    const result = figures(option("call", "110000", "1"), { volatility: { BTC: "0.55" } });
    const years =
      (Date.parse("2026-03-27T08:00:00Z") - Date.parse("2026-01-15T00:00:00Z")) / (365 * 86400000);
    const expected = black76({ type: "call", forward: 100000, strike: 110000, years, vol: 0.55 }).price;
    expect(Number(result.value)).toBeCloseTo(expected, 8);
  });
});

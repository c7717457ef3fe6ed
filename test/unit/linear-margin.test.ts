import { accountRisk, buildBrackets, DEFAULT_RISK_PARAMS, Decimal, evaluatePortfolio } from "@backing/core";
import { describe, expect, it } from "vitest";
import { accountDocument, parse, perp, portfolioDocument, single } from "../helpers/portfolio.ts";

// Binance BTCUSDT brackets of 2021-03-18 (reference/margin-methodology.md §1.1); the published
// maintenance amounts 1,300 and 16,300 are FACTs, the others DERIVED with the same recursion.
const BTC_CUM = [
  "0",
  "50",
  "1300",
  "16300",
  "266300",
  "1266300",
  "2516300",
  "5016300",
  "25016300",
  "100016300",
];

describe("bracket maintenance amount (cum) recursion", () => {
  it("matches the BTCUSDT 2021 table", () => {
    const brackets = buildBrackets(DEFAULT_RISK_PARAMS.brackets.BTC ?? []);
    expect(brackets.map((b) => b.cum.toFixed())).toEqual(BTC_CUM);
  });

  it("gives the ETHUSDT maintenance amount 135,365 quoted in Binance's FAQ example", () => {
    const eth = buildBrackets(DEFAULT_RISK_PARAMS.brackets.ETH ?? []);
    const tenPercent = eth.find((b) => b.mmr.eq("0.1"));
    expect(tenPercent?.cum.toFixed()).toBe("135365");
  });
});

function perpMargins(underlying: string, size: string, mark: string) {
  const { book, market, params } = single(
    { collateral: { USDC: "1000000000" }, positions: [perp(underlying, size, mark)] },
    { prices: { [underlying]: { index: mark }, USDC: { index: "1" } } },
  );
  const [position] = accountRisk(book, market, params).positions;
  return { im: position?.initialMargin.toFixed(), mm: position?.maintenanceMargin.toFixed() };
}

describe("perp and future IM / MM by bracket", () => {
  it("tier 1 at its cap: 50,000 notional → IM 50,000/125 = 400, MM 0.4% = 200", () => {
    expect(perpMargins("BTC", "1", "50000")).toEqual({ im: "400", mm: "200" });
  });

  it("just past the tier-1 cap: 50,001 → tier 2, IM 500.01, MM 250.005 − 50 = 200.005", () => {
    expect(perpMargins("BTC", "1", "50001")).toEqual({ im: "500.01", mm: "200.005" });
  });

  it("is continuous at the 250,000 edge: 250,000 × 0.5% − 50 = 250,000 × 1% − 1,300 = 1,200", () => {
    expect(perpMargins("BTC", "2.5", "100000").mm).toBe("1200");
    // 250,000.01 is in tier 3: 2,500.0001 − 1,300
    expect(perpMargins("BTC", "2.5", "100000.004").mm).toBe("1200.0001");
  });

  it("500,000 notional → MMR 1%, maintenance amount 1,300, MM 3,700 (Binance FAQ)", () => {
    expect(perpMargins("BTC", "5", "100000")).toEqual({ im: "10000", mm: "3700" });
  });

  it("reproduces the FAQ's 'MM of BTCUSDT = 71200.81144 (3500032.458 × 2.50% − 16300)'", () => {
    expect(perpMargins("BTC", "1", "3500032.458").mm).toBe("71200.81145");
  });

  it("reproduces the FAQ's 'MM of ETHUSDT = 356,512.508 (4918775.081 × 10.00% − 135365)'", () => {
    expect(perpMargins("ETH", "-1", "4918775.081").mm).toBe("356512.5081");
  });
});

describe("unrealized PnL with funding", () => {
  it("long 2 @ 98,000 marked 100,050 with −12.5 funding → 2 × 2,050 − 12.5 = 4,087.5", () => {
    const { book, market, params } = single(
      { positions: [perp("BTC", "2", "98000", { funding: "-12.5" })] },
      { prices: { BTC: { index: "100000", mark: "100050" } } },
    );
    expect(accountRisk(book, market, params).unrealizedPnl.toFixed()).toBe("4087.5");
  });

  it("short 3 ETH @ 3,100 marked 3,000 with +4.25 funding received → 300 + 4.25", () => {
    const { book, market, params } = single({ positions: [perp("ETH", "-3", "3100", { funding: "4.25" })] });
    expect(accountRisk(book, market, params).unrealizedPnl.toFixed()).toBe("304.25");
  });

  it("a dated future marks against its entry the same way", () => {
    const output = evaluatePortfolio(
      parse(
        portfolioDocument({
          accounts: [
            accountDocument({
              positions: [
                {
                  instrument: "BTC-20260327",
                  type: "future",
                  underlying: "BTC",
                  size: "-1",
                  entryPrice: "101000",
                  expiry: "2026-03-27T08:00:00Z",
                },
              ],
            }),
          ],
        }),
      ),
    );
    // −1 × (100,000 − 101,000) = 1,000; notional 100,000 → tier 2: IM 1,000, MM 500 − 50
    expect(output.accounts[0]?.positions[0]).toMatchObject({
      notional: "100000",
      unrealizedPnl: "1000",
      initialMargin: "1000",
      maintenanceMargin: "450",
    });
  });
});

describe("decimal exactness", () => {
  it("keeps 0.1 + 0.2 = 0.3 in collateral sums", () => {
    const { book, market, params } = single(
      { collateral: { USDC: "0.1", USDT: "0.2" } },
      { params: { collateral: { USDT: { haircutTiers: [{ upTo: null, haircut: "0" }] } } } },
    );
    expect(accountRisk(book, market, params).collateralValue.eq(new Decimal("0.3"))).toBe(true);
  });
});

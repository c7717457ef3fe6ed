import { DEFAULT_RISK_PARAMS, Decimal, exposureReport, parsePortfolio } from "@backing/core";
import { describe, expect, it } from "vitest";

// ADL exposure (DESIGN §3.12): one BTC bracket (MM 5%), mark 9,000, USDC without haircut.
// Binance's score max(0, uPnL)/max(1, wallet) × MM/(wallet + uPnL), per account:
//   s1: short 0.5 from 10,000, 1,000 USDC: profit 500, notional 4,500, MM 225
//       → 500/1,000 × 225/1,500 = 0.075
//   l1: long 1 from 8,000, 4,000 USDC: profit 1,000, notional 9,000, MM 450
//       → 1,000/4,000 × 450/5,000 = 0.0225
//   s2: short 2 from 9,500, 10,000 USDC: profit 1,000, notional 18,000, MM 900
//       → 1,000/10,000 × 900/11,000 = 0.00818…
//   loser: long 1 from 10,000: a loss, not in the queue.
// A deficit of 800 past the fund takes s1's 500 (all 4,500 of notional), then 300 of l1's 1,000
// (9,000 × 300/1,000 = 2,700): 7,200 deleveraged.
const position = (size: string, entryPrice: string) => ({
  instrument: "BTC-PERP",
  type: "perp",
  underlying: "BTC",
  size,
  entryPrice,
});
const portfolio = parsePortfolio(
  {
    asOf: "2026-01-15T00:00:00Z",
    prices: { BTC: { index: "9000" }, USDC: { index: "1" } },
    params: { brackets: { BTC: [{ notionalCap: "1000000000", maxLeverage: "10", mmr: "0.05" }] } },
    accounts: [
      { id: "s1", venue: "v", collateral: { USDC: "1000" }, positions: [position("-0.5", "10000")] },
      { id: "l1", venue: "v", collateral: { USDC: "4000" }, positions: [position("1", "8000")] },
      { id: "s2", venue: "v", collateral: { USDC: "10000" }, positions: [position("-2", "9500")] },
      { id: "loser", venue: "v", collateral: { USDC: "3000" }, positions: [position("1", "10000")] },
    ],
  },
  DEFAULT_RISK_PARAMS,
);

describe("ADL exposure in the exposure report", () => {
  it("ranks profitable positions by Binance's score and says what a deficit past the fund would deleverage", () => {
    const { report } = exposureReport(portfolio, null, new Decimal(800));
    const adl = report.assets.BTC?.adl;
    expect(adl?.queue.map((r) => [r.rank, r.id, r.side, r.notional, r.profit])).toEqual([
      [1, "s1", "short", "4500", "500"],
      [2, "l1", "long", "9000", "1000"],
      [3, "s2", "short", "18000", "1000"],
    ]);
    expect(adl?.queue[0]?.score).toBe("0.075");
    expect(adl?.queue[1]?.score).toBe("0.0225");
    expect(adl?.profitableNotional).toEqual({ long: "9000", short: "22500" });
    expect(adl?.profit).toEqual({ long: "1000", short: "1500" });
    expect(adl).toMatchObject({ deficit: "800", deleveragedNotional: "7200", coveredByQueue: true });
  });

  it("without a stress report there is no deficit to deleverage", () => {
    const { report } = exposureReport(portfolio);
    expect(report.assets.BTC?.adl).toMatchObject({
      deficit: null,
      deleveragedNotional: null,
      coveredByQueue: null,
    });
  });
});

import { DEFAULT_RISK_PARAMS, Decimal, ExposureAggregator, parsePortfolio } from "@backing/core";
import { describe, expect, it } from "vitest";

// DESIGN §3.10 in the exposure report: per asset, one interval's funding at each venue's latest
// rate (who pays, who receives), and the accounts whose next payment exceeds their distance to MM.
// BTC at 20,000; venue-a's latest rate +0.1 % (longs pay); venue-b has none.
//   A: long 2 on 500 USDC   → pays 2 × 20,000 × 0.001 = 40;  equity 500 − MM 160 = 340 away
//   B: long 1 on 95 USDC    → pays 20;                        equity 95 − MM 80 = 15 away → at risk
//   C: short 3 on 5,000     → pays −60 (receives)
//   D: long 1 on venue-b    → no rate, no funding
// Longs pay 60, shorts pay −60, net 0; one account at risk: B (20 > 15).
const perp = (size: string) => ({
  instrument: "BTC-PERP",
  type: "perp",
  underlying: "BTC",
  size,
  entryPrice: "20000",
});
const portfolio = parsePortfolio(
  {
    asOf: "2026-12-01T00:00:00Z",
    prices: { BTC: { index: "20000" }, USDC: { index: "1" } },
    accounts: [
      { id: "A", venue: "venue-a", collateral: { USDC: "500" }, positions: [perp("2")] },
      { id: "B", venue: "venue-a", collateral: { USDC: "95" }, positions: [perp("1")] },
      { id: "C", venue: "venue-a", collateral: { USDC: "5000" }, positions: [perp("-3")] },
      { id: "D", venue: "venue-b", collateral: { USDC: "5000" }, positions: [perp("1")] },
    ],
  },
  DEFAULT_RISK_PARAMS,
);
const rates = new Map([["venue-a", new Map([["BTC", new Decimal("0.001")]])]]);
const aggregator = () => new ExposureAggregator(portfolio.market, portfolio.params, null, rates);

describe("funding in the exposure report", () => {
  it("sums one interval's funding by side and lists the accounts one payment would take past MM", () => {
    const one = aggregator();
    one.add(portfolio.accounts);
    const report = one.report(portfolio.asOf);
    expect(report.assets.BTC?.funding).toEqual({ longsPay: "60", shortsPay: "-60", net: "0" });
    expect(report.fundingAtRisk).toEqual({
      count: 1,
      accounts: [{ id: "B", venue: "venue-a", payment: "20", distanceToMaintenance: "15" }],
    });
  });

  it("merges shards to the same report, and says nothing of funding without rates", () => {
    const whole = aggregator();
    whole.add(portfolio.accounts);
    const [first, second, merged] = [aggregator(), aggregator(), aggregator()];
    first.add(portfolio.accounts.slice(0, 2));
    second.add(portfolio.accounts.slice(2));
    merged.merge(second.partial());
    merged.merge(first.partial());
    expect(merged.report(portfolio.asOf)).toEqual(whole.report(portfolio.asOf));
    const none = new ExposureAggregator(portfolio.market, portfolio.params);
    none.add(portfolio.accounts);
    const plain = none.report(portfolio.asOf);
    expect(plain.assets.BTC?.funding).toBeUndefined();
    expect(plain.fundingAtRisk).toBeUndefined();
  });
});

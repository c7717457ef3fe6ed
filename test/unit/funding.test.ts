import {
  DEFAULT_RISK_PARAMS,
  Decimal,
  evaluatePortfolio,
  PortfolioInputError,
  parsePortfolio,
} from "@backing/core";
import { describe, expect, it } from "vitest";

// DESIGN §3.10: cumulative funding F per venue and underlying; a perp with a fundingIndex owes
// −size × (F − fundingIndex) on top of its accrued funding, and that is part of its uPnL.
//
// Two funding prints on venue-a BTC, starting from F = 0:
//   print 1: rate +0.0001 at 20,000 → F += 2     → F = 2      (longs pay)
//   print 2: rate −0.00005 at 19,000 → F += −0.95 → F = 1.05   (shorts pay)
const F = "1.05";
const document = (positions: unknown[], collateral: Record<string, string> = { USDC: "2000" }) => ({
  asOf: "2026-01-15T00:00:00Z",
  prices: { BTC: { index: "19500" }, USDC: { index: "1" } },
  cumulativeFunding: { "venue-a": { BTC: F } },
  accounts: [{ id: "a", venue: "venue-a", collateral, positions }],
});
const perp = (size: string, extra: Record<string, unknown> = {}) => ({
  instrument: `BTC-PERP-${size}`,
  type: "perp",
  underlying: "BTC",
  size,
  entryPrice: "20000",
  ...extra,
});
const evaluate = (doc: unknown) => evaluatePortfolio(parsePortfolio(doc, DEFAULT_RISK_PARAMS)).accounts[0];

describe("funding against a cumulative index (DESIGN §3.10)", () => {
  it("a long and a short after two prints of opposite sign: funding and uPnL by hand", () => {
    const account = evaluate(
      document([perp("2", { fundingIndex: "0", funding: "1.5" }), perp("-3", { fundingIndex: "0" })]),
    );
    const [long, short] = account?.positions ?? [];
    // Long 2: unsettled −2 × (1.05 − 0) = −2.1, plus accrued 1.5 → −0.6;
    //   uPnL = 2 × (19,500 − 20,000) − 0.6 = −1,000.6.
    expect(long).toMatchObject({ funding: "-0.6", unrealizedPnl: "-1000.6" });
    // Short 3: unsettled −(−3) × 1.05 = +3.15 (it received what the longs paid, net);
    //   uPnL = −3 × (19,500 − 20,000) + 3.15 = 1,503.15.
    expect(short).toMatchObject({ funding: "3.15", unrealizedPnl: "1503.15" });
    // Equity = 2,000 − 1,000.6 + 1,503.15 = 2,502.55.
    expect(account?.equity).toBe("2502.55");
  });

  it("a position that settled at the current F owes nothing more; without a fundingIndex nothing is unsettled", () => {
    const [settled, plain] =
      evaluate(document([perp("1", { fundingIndex: F }), perp("-1")]))?.positions ?? [];
    expect(settled).toMatchObject({ funding: "0", unrealizedPnl: "-500" });
    expect(plain).toMatchObject({ funding: "0", unrealizedPnl: "500" });
  });

  it("moves the liquidation price by the unsettled funding over size × (1 − mmr)", () => {
    // Long 1 at 20,000 on 2,000 USDC, bracket 1 (mmr 0.004, cum 0). Liquidation where
    // 2,000 + (P − 20,000) + f = 0.004 P, so P = (18,000 − f) / 0.996; with f = −1.05,
    // P = 18,001.05 / 0.996 = 18,073.3433734939…, 1.05 / 0.996 = 1.0542… above the 18,072.2891566265… without.
    const owed = evaluate(document([perp("1", { fundingIndex: "0" })]))?.positions[0]?.liquidationPrice;
    const none = evaluate(document([perp("1")]))?.positions[0]?.liquidationPrice;
    // Printed at 8 decimals rounded up: a long's liquidation price is never shown lower than it is.
    const up = (v: Decimal) => v.toDecimalPlaces(8, Decimal.ROUND_CEIL).toFixed();
    expect(owed).toBe(up(new Decimal("18001.05").div("0.996")));
    expect(none).toBe(up(new Decimal("18000").div("0.996")));
  });

  it("names the path of a fundingIndex with nothing to settle against, or on a future", () => {
    const issues = (doc: unknown) => {
      try {
        parsePortfolio(doc, DEFAULT_RISK_PARAMS);
      } catch (error) {
        if (error instanceof PortfolioInputError) return error.issues.map((i) => i.path);
      }
      return [];
    };
    const noF = { ...document([perp("1", { fundingIndex: "0" })]), cumulativeFunding: {} };
    expect(issues(noF)).toEqual(["accounts[0].positions[0].fundingIndex"]);
    const future = { ...perp("1", { fundingIndex: "0" }), type: "future", expiry: "2026-03-27T08:00:00Z" };
    expect(issues(document([future]))).toEqual(["accounts[0].positions[0].fundingIndex"]);
  });
});

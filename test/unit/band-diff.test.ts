import { Decimal, marginTotals, statusOf, triggerBands } from "@backing/core";
import { describe, expect, it } from "vitest";
import { NARROWEST_BAND_REACH, newBands } from "../../packages/engine/src/recompute/band-diff.ts";
import { single } from "../helpers/portfolio.ts";

/** Long 1 BTC at 100,000 on `usdc` of collateral: the less collateral, the closer the warning threshold. */
function longBtc(usdc: string) {
  const { book, market, params } = single({
    collateral: { USDC: usdc },
    positions: [{ instrument: "BTC-PERP", type: "perp", underlying: "BTC", size: "1", entryPrice: "100000" }],
  });
  const totals = marginTotals(book, market, params);
  const status = statusOf(
    totals.equity,
    totals.initialMargin,
    totals.maintenanceMargin,
    params.status.warningBuffer,
  );
  const bands = (stored = new Map()) =>
    newBands([{ book, held: { totals, status } }], stored, market, params);
  const btc = triggerBands(book, market, params, totals, status).find((b) => b.asset === "BTC");
  return { status, bands, reachDown: new Decimal(100000).minus(btc?.low ?? 0).div(100000) };
}

/** The collateral at which the BTC band reaches down `reach` of the price (bisection on the core's own bands). */
function collateralReaching(reach: number): string {
  let low = 1;
  let high = 100_000;
  for (let i = 0; i < 80; i++) {
    const mid = (low + high) / 2;
    const { status, reachDown } = longBtc(mid.toFixed(6));
    if (status === "HEALTHY" && reachDown.gt(reach)) high = mid;
    else low = mid;
  }
  return high.toFixed(6);
}

describe("trigger bands too narrow to index", () => {
  it("stores no band when an edge is within 0.05 % of the price, so every move re-evaluates the account", () => {
    const hovering = longBtc(collateralReaching(0.0002));
    expect(hovering.status).toBe("HEALTHY");
    expect(hovering.reachDown.lt(NARROWEST_BAND_REACH)).toBe(true);
    expect(hovering.bands().find((b) => b.asset === "BTC")).toEqual({
      accountId: "a-1",
      asset: "BTC",
      low: null,
      high: null,
    });
    // Already stored as none: nothing to write again.
    const none = new Map([["a-1", [{ accountId: "a-1", asset: "BTC", low: null, high: null }]]]);
    expect(hovering.bands(none).filter((b) => b.asset === "BTC")).toEqual([]);
  });

  it("keeps a band whose edges are farther than 0.05 % from the price", () => {
    const clear = longBtc(collateralReaching(0.002));
    expect(clear.reachDown.gt(NARROWEST_BAND_REACH)).toBe(true);
    const btc = clear.bands().find((b) => b.asset === "BTC");
    expect(btc?.low).not.toBeNull();
    expect(new Decimal(btc?.low as string).lt(100000 * (1 - 0.0005))).toBe(true);
  });
});

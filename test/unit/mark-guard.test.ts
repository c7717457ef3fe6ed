import { accountRisk, ingestPriceEvents, runTick, sweepAccounts } from "@backing/engine";
import { memoryStore } from "@backing/engine/testing";
import { describe, expect, it } from "vitest";

// DESIGN §3.10, mark guard: a mark further than maxMarkDeviation (default 0.1) from its index is
// evaluated at the bound, index × (1 ± 0.1), its asset is reported, and the snapshot keeps the raw mark.
//
// A squeeze: BTC index 20,000, perp mark 26,000 (30 % over). Short 1 BTC perp at 20,000 on 2,500 USDC:
//   at the raw mark:   equity 2,500 − 6,000 = −3,500 < MM 104 → LIQUIDATION
//   at the bound 22,000: equity 2,500 − 2,000 = 500; IM 22,000 / 125 = 176; MM 88 → not called
const T0 = Date.parse("2026-12-01T00:00:00Z");
const short = {
  id: "short",
  venue: "v",
  marginMode: "standard" as const,
  collateral: { USDC: "2500" },
  positions: [
    { instrument: "BTC-PERP", type: "perp" as const, underlying: "BTC", size: "-1", entryPrice: "20000" },
  ],
};
const squeeze = [
  {
    eventId: "BTC@0",
    asset: "BTC",
    index: "20000",
    mark: "26000",
    timestamp: new Date(T0).toISOString(),
    source: "t",
  },
  { eventId: "USDC@0", asset: "USDC", index: "1", timestamp: new Date(T0).toISOString(), source: "t" },
];

describe("the mark guard", () => {
  it("evaluates a mark 30 % off its index at the 10 % bound, reports the asset, and keeps the raw mark", async () => {
    const store = memoryStore();
    await store.putAccounts([short]);
    const deps = { store, now: () => T0 };
    await runTick(squeeze, deps);
    expect(await store.listNotifications()).toEqual([]);
    const risk = await accountRisk(deps, short);
    expect(risk.current.result).toMatchObject({ status: "HEALTHY", equity: "500", maintenanceMargin: "88" });
    expect((await store.getPrices()).get("BTC")?.latest?.mark).toBe("26000");
    expect((await sweepAccounts(deps)).markGuardedAssets).toEqual(["BTC"]);
  });

  it("follows the params: with maxMarkDeviation 0.5 the raw mark stands and the short is liquidated", async () => {
    const store = memoryStore();
    const { DEFAULT_RISK_PARAMS } = await import("@backing/core");
    await store.putParams({
      ...DEFAULT_RISK_PARAMS,
      version: "wide-marks",
      priceGuards: { ...DEFAULT_RISK_PARAMS.priceGuards, maxMarkDeviation: "0.5" },
    });
    await store.putAccounts([short]);
    const deps = { store, now: () => T0 };
    await ingestPriceEvents(squeeze, deps);
    const risk = await accountRisk(deps, short);
    expect(risk.current.result).toMatchObject({ status: "LIQUIDATION", equity: "-3500" });
    expect((await sweepAccounts(deps)).markGuardedAssets).toEqual([]);
  });
});

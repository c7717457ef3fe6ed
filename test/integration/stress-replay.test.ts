import { Account, ScenarioPack } from "@backing/contracts";
import { DEFAULT_RISK_PARAMS, parsePortfolio, stressReport } from "@backing/core";
import { runReplay } from "@backing/local";
import { describe, expect, inject, it } from "vitest";

// Stress and replay use one liquidation model (DESIGN §3.12): a scenario's shock, run by the stress
// report and as a one-step replay through the stateful engine, must give the same liquidations,
// fees, bad debt and fund. One BTC bracket (IM 10%, MM 5%), a 0.5% fee, a fund of 10,000.
// Longs of 1 BTC from 10,000 with U USDC: at the shocked 8,000, equity = U − 2,000, MM 400,
// and a liquidation pays 0.5% × 8,000 = 40:
//   U 300  → −1,700 → liquidated, bad debt 1,740
//   U 700  → −1,300 → liquidated, bad debt 1,340
//   U 1,500 → −500  → liquidated, bad debt 540
//   U 2,500 → 500 ≥ MM 400: MARGIN_CALL, not liquidated
//   U 5,000 → 3,000: HEALTHY; the short with 1,000 gains 2,000: HEALTHY
// Bad debt 3,620, fees 120, fund after 10,000 + 120 − 3,620 = 6,500; Cover-1 1,740, Cover-2 3,080.
const params = {
  version: "one-bracket",
  brackets: { BTC: [{ notionalCap: "1000000000", maxLeverage: "10", mmr: "0.05" }] },
  stress: { insuranceFund: "10000", impact: {}, maxCascadeRounds: 20 },
  liquidation: { fee: "0.005" },
};
const accounts = [
  ["u300", "300", "1"],
  ["u700", "700", "1"],
  ["u1500", "1500", "1"],
  ["u2500", "2500", "1"],
  ["u5000", "5000", "1"],
  ["short", "1000", "-1"],
].map(([id, usdc, size]) =>
  Account.parse({
    id,
    venue: "venue-a",
    collateral: { USDC: usdc },
    positions: [{ instrument: "BTC-PERP", type: "perp", underlying: "BTC", size, entryPrice: "10000" }],
  }),
);
const pack = ScenarioPack.parse({
  id: "one",
  version: "1",
  scenarios: [
    {
      id: "BTC_MINUS_20",
      name: "BTC −20%",
      type: "hypothetical",
      horizon: "P1D",
      shocks: { BTC: { price: "-0.2" } },
      cascade: false,
      provenance: ["hand-made"],
    },
  ],
});

describe("stress and replay agree", () => {
  it("a scenario's shock as a one-step replay liquidates the same accounts with the same fees, bad debt and fund", async () => {
    const portfolio = parsePortfolio(
      {
        asOf: "2026-01-15T00:00:00Z",
        prices: { BTC: { index: "10000" }, USDC: { index: "1" } },
        params,
        accounts,
      },
      DEFAULT_RISK_PARAMS,
    );
    const [scenario] = stressReport(portfolio, pack, { reverse: false }).scenarios;
    expect(scenario).toMatchObject({
      accountsByStatus: { HEALTHY: 2, WARNING: 0, MARGIN_CALL: 1, LIQUIDATION: 3 },
      totalBadDebt: "3620",
      insuranceFundAfter: "6500",
      cover1: "1740",
      cover2: "3080",
      waterfall: { fees: "120", fundUsed: "3620", toAdl: "0" },
    });

    const at = "2026-01-15T01:00:00.000Z";
    const report = await runReplay(
      {
        path: "shock",
        steps: [
          {
            timestamp: at,
            timeMs: Date.parse(at),
            prices: [{ eventId: "BTC@shock", asset: "BTC", index: "8000", timestamp: at, source: "test" }],
            funding: [],
          },
        ],
        accounts,
        prices: { BTC: { index: "10000" }, USDC: { index: "1" } },
        volatility: {},
        cumulativeFunding: {},
        asOf: "2026-01-15T00:00:00Z",
        params: [portfolio.params.document],
        topUp: 0,
        seed: 1,
      },
      { endpoint: inject("dynamoEndpoint") },
    );
    const [run] = report.runs;
    expect(run?.totals).toMatchObject({
      liquidations: scenario?.accountsByStatus.LIQUIDATION,
      badDebt: scenario?.totalBadDebt,
      fees: scenario?.waterfall.fees,
      fundUsed: scenario?.waterfall.fundUsed,
    });
    expect(run?.timeline[0]?.insuranceFund).toBe(scenario?.insuranceFundAfter);
    const badDebts = Object.values(run?.accounts ?? {})
      .map((a) => Number(a.badDebt))
      .sort((a, b) => b - a);
    expect(String(badDebts[0])).toBe(scenario?.cover1);
    expect(String((badDebts[0] ?? 0) + (badDebts[1] ?? 0))).toBe(scenario?.cover2);
    // The same accounts were liquidated.
    const liquidatedInStress = scenario?.accounts.filter((a) => a.status === "LIQUIDATION").map((a) => a.id);
    const liquidatedInReplay = Object.entries(run?.accounts ?? {})
      .filter(([, a]) => a.fills.length > 0)
      .map(([id]) => id);
    expect(liquidatedInReplay.sort()).toEqual(liquidatedInStress?.sort());
  });
});

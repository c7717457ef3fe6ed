import type { Account } from "@backing/contracts";
import { DEFAULT_RISK_PARAMS, evaluatePortfolio, parsePortfolio } from "@backing/core";
import { accountRisk, runTick } from "@backing/engine";
import { memoryStore } from "@backing/engine/testing";
import { describe, expect, it } from "vitest";

// DESIGN §3.10: a price event may carry the asset's implied volatility; options without a
// markPrice are then marked at the latest one (the configured volatility is only the default), and
// the evidence carries it so explain re-runs the same evaluation.
const T0 = Date.parse("2026-12-01T00:00:00Z");
const account: Account = {
  id: "o-1",
  venue: "v",
  marginMode: "standard",
  collateral: { USDC: "5000" },
  positions: [
    {
      instrument: "BTC-27DEC26-22000-C",
      type: "option",
      underlying: "BTC",
      optionType: "call",
      strike: "22000",
      expiry: "2026-12-27T08:00:00Z",
      size: "-1",
    },
  ],
};
const prices = (minute: number, volatility?: string) =>
  ["BTC", "USDC"].map((asset) => ({
    eventId: `${asset}@${minute}`,
    asset,
    index: asset === "BTC" ? "20000" : "1",
    timestamp: new Date(T0 + minute * 60_000).toISOString(),
    source: "feed",
    ...(asset === "BTC" && volatility ? { volatility } : {}),
  }));
/** What `backing evaluate` gives for the same account at BTC 20,000 and this volatility. */
const evaluatedAt = (vol: string, atMs = T0 + 60_000) =>
  evaluatePortfolio(
    parsePortfolio(
      {
        asOf: new Date(atMs).toISOString(),
        prices: { BTC: { index: "20000" }, USDC: { index: "1" } },
        volatility: { BTC: vol },
        accounts: [account],
      },
      DEFAULT_RISK_PARAMS,
    ),
  ).accounts[0];

describe("implied volatility on price events", () => {
  it("marks options at the latest volatility given with a price, else the configured one", async () => {
    const store = memoryStore();
    await store.putAccounts([account]);
    let clock = T0;
    const deps = { store, now: () => clock, volatility: { BTC: "0.55" } };
    await runTick(prices(0), deps);
    clock = T0 + 60_000;
    const configured = (await accountRisk(deps, account)).current.result;
    expect(configured.optionValue).toBe(evaluatedAt("0.55")?.optionValue);
    await runTick(prices(1, "0.8"), deps);
    const implied = (await accountRisk(deps, account)).current.result;
    expect(implied.optionValue).toBe(evaluatedAt("0.8")?.optionValue);
    expect(implied.optionValue).not.toBe(configured.optionValue);
    // A later price without one keeps the latest given.
    clock = T0 + 90_000;
    const later = await runTick(prices(1.5), deps);
    expect(later.ingest.outcomes.map((o) => o.outcome)).toEqual(["accepted", "accepted"]);
    expect((await accountRisk(deps, account)).current.result.optionValue).toBe(
      evaluatedAt("0.8", T0 + 90_000)?.optionValue,
    );
    expect((await store.getPrices()).get("BTC")?.latest?.volatility).toBe("0.8");
  });
});

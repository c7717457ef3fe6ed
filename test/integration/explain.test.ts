import type { Account } from "@backing/contracts";
import { DEFAULT_RISK_PARAMS } from "@backing/core";
import { type EngineDeps, ExplainError, explainNotification, explainRecord, runTick } from "@backing/engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshStore } from "../helpers/dynamo.ts";

// The engine test's account: 1,000 USDC against a long 1 BTC perp entered at 20,000; tier 1 (IM
// 0.8%, MM 0.4%): equity = P − 19,000, IM = P/125, MM = 0.004·P. Call below 19,153.23,
// liquidation below 19,076.31, cure from a call at P ≥ 19,156.31 (cureBuffer 2%).
const account: Account = {
  id: "a-1",
  venue: "venue-a",
  marginMode: "standard",
  collateral: { USDC: "1000" },
  positions: [{ instrument: "BTC-PERP", type: "perp", underlying: "BTC", size: "1", entryPrice: "20000" }],
};
const T0 = Date.parse("2022-11-08T00:00:00Z");
let fresh: Awaited<ReturnType<typeof freshStore>>;
let clock = T0;

async function tick(minute: number, btc: string) {
  clock = T0 + minute * 60_000;
  const timestamp = new Date(clock).toISOString();
  const deps: EngineDeps = { store: fresh.store, now: () => clock };
  await runTick(
    [
      { eventId: `BTC@${minute}`, asset: "BTC", index: btc, timestamp, source: "test" },
      { eventId: `USDC@${minute}`, asset: "USDC", index: "1", timestamp, source: "test" },
    ],
    deps,
  );
}

beforeAll(async () => {
  fresh = await freshStore();
  await fresh.store.putAccounts([account]);
  await tick(0, "20000");
  await tick(1, "19100"); // margin.call
  await tick(2, "19155"); // above the call threshold, below the cure: hysteresis holds
  await tick(3, "19200"); // margin.cured
  // A stricter params set from here on (stored by version), then a fall straight to liquidation.
  await fresh.store.putParams({ ...DEFAULT_RISK_PARAMS, version: "strict-2" });
  await tick(4, "19000"); // margin.liquidation
});
afterAll(() => fresh?.drop());

describe("explain a margin notification (DynamoDB Local)", () => {
  it("re-runs every notification from its stored evidence with zero diffs", async () => {
    const notifications = await fresh.store.listNotifications();
    expect(notifications.map((n) => n.type)).toEqual(["margin.call", "margin.cured", "margin.liquidation"]);
    for (const n of notifications) {
      const explanation = await explainNotification(fresh.store, n.id);
      expect(explanation.diffs, n.type).toEqual([]);
      expect(explanation.trace.id).toBe("a-1");
    }
  });

  it("states the figures of the hand calculation and the rule that applied", async () => {
    const [call, cured, liquidation] = await fresh.store.listNotifications();
    const atCall = await explainNotification(fresh.store, call?.id as string);
    // P = 19,100: equity 100, IM 152.8, MM 76.4, call amount 52.8.
    expect(Number(atCall.recomputed.equity)).toBe(100);
    expect(Number(atCall.recomputed.initialMargin)).toBe(152.8);
    expect(Number(atCall.recomputed.maintenanceMargin)).toBe(76.4);
    expect(Number(atCall.recomputed.callAmount)).toBe(52.8);
    expect(atCall.decision).toMatchObject({ previousStatus: "HEALTHY", status: "MARGIN_CALL" });
    expect(atCall.decision.rule).toMatch(/^worsening/);
    expect(atCall.inputs.prices.BTC).toEqual({ index: "19100", mark: "19100" });

    const atCure = await explainNotification(fresh.store, cured?.id as string);
    expect(atCure.decision).toMatchObject({ previousStatus: "MARGIN_CALL", status: "HEALTHY" });
    expect(atCure.decision.rule).toMatch(/^cure/);

    const atLiquidation = await explainNotification(fresh.store, liquidation?.id as string);
    expect(atLiquidation.inputs.paramsVersion).toBe("strict-2");
    // P = 19,000: equity 0 < MM 76.
    expect(atLiquidation.recomputed).toMatchObject({ status: "LIQUIDATION" });
    expect(Number(atLiquidation.recomputed.equity)).toBe(0);
  });

  it("lists every stored figure the re-run does not reproduce", async () => {
    const [call] = await fresh.store.listNotifications();
    const tampered = structuredClone(call);
    if (!tampered || !("equity" in tampered.payload.data)) throw new Error("no margin notification");
    tampered.payload.data.equity = "150";
    tampered.payload.data.status = "WARNING";
    const { diffs } = explainRecord(tampered, DEFAULT_RISK_PARAMS);
    expect(diffs).toEqual([
      { field: "status", stored: "WARNING", recomputed: "MARGIN_CALL" },
      { field: "equity", stored: "150", recomputed: storedEquity(call) },
    ]);
  });

  it("refuses an unknown id and a notification without evidence", async () => {
    await expect(explainNotification(fresh.store, "nope")).rejects.toMatchObject({ reason: "not-found" });
    const [call] = await fresh.store.listNotifications();
    const { evidence: _, ...bare } = call as NonNullable<typeof call>;
    expect(() => explainRecord(bare, DEFAULT_RISK_PARAMS)).toThrow(ExplainError);
  });
});

const storedEquity = (n: { payload: { data: unknown } } | undefined) =>
  ((n as { payload: { data: unknown } }).payload.data as { equity: string }).equity;

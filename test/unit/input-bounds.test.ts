import { Account, PriceEvent } from "@backing/contracts";
import { ingestPriceEvents, runExposureJob, runStressJob, sweepAccounts } from "@backing/engine";
import { memoryStore } from "@backing/engine/testing";
import { exposureRendering } from "@backing/reports";
import { describe, expect, it } from "vitest";
import { memoryReports } from "../helpers/reports.ts";

// Issue 17, defect 4: a collateral of "1" and 100,000 zeros was accepted, and the exposure job over
// the stored book then ran past 120 s. Decimal inputs now have at most 18 digits on either side.
const LARGEST = "999999999999999999.999999999999999999";
const SMALLEST = "0.000000000000000001";
const T0 = Date.parse("2026-12-01T00:00:00Z");

const account = (id: string, amount: string, price: string) =>
  Account.parse({
    id,
    venue: "v",
    collateral: { USDC: amount, BTC: amount },
    positions: [
      { instrument: "BTC-PERP", type: "perp", underlying: "BTC", size: amount, entryPrice: price },
      { instrument: "BTC-PERP-S", type: "perp", underlying: "BTC", size: `-${amount}`, entryPrice: price },
      {
        instrument: "BTC-C",
        type: "option",
        underlying: "BTC",
        optionType: "call",
        size: `-${amount}`,
        strike: price,
        expiry: "2026-12-31T08:00:00Z",
      },
      {
        instrument: "BTC-F",
        type: "future",
        underlying: "BTC",
        size: amount,
        entryPrice: price,
        expiry: "2026-12-31T08:00:00Z",
      },
    ],
  });

describe("decimal inputs are bounded (digits and magnitude)", () => {
  it("refuses issue 17's 100,001-digit amount, and one digit past either bound, naming the bound", () => {
    for (const amount of [`1${"0".repeat(100_000)}`, `1${"0".repeat(18)}`, "0.0000000000000000001"]) {
      const result = Account.safeParse({ id: "a", venue: "v", collateral: { USDC: amount } });
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.path).toEqual(["collateral", "USDC"]);
      expect(result.error?.issues[0]?.message).toContain("at most 18 digits before the point and 18 after");
    }
    for (const amount of [LARGEST, `-${LARGEST}`, SMALLEST])
      expect(Account.safeParse({ id: "a", venue: "v", collateral: { USDC: amount } }).success).toBe(true);
  });

  it("refuses a zero price and accepts the largest and smallest", () => {
    const event = (index: string) => ({
      eventId: "e",
      asset: "BTC",
      index,
      timestamp: "2026-12-01T00:00:00Z",
      source: "s",
    });
    expect(PriceEvent.safeParse(event("0")).success).toBe(false);
    expect(PriceEvent.safeParse({ ...event("1"), mark: "0.0" }).success).toBe(false);
    expect(PriceEvent.safeParse(event(LARGEST)).success).toBe(true);
    expect(PriceEvent.safeParse(event(SMALLEST)).success).toBe(true);
  });

  it("the scheduled jobs (sweep, exposure, stress) finish on a book of the largest and smallest accepted values", async () => {
    const store = memoryStore();
    await store.putAccounts([
      account("largest", LARGEST, LARGEST),
      account("smallest", SMALLEST, SMALLEST),
      account("mixed", LARGEST, SMALLEST),
      account("mixed-2", SMALLEST, LARGEST),
    ]);
    const events = (price: string, at: number) =>
      ["BTC", "USDC"].map((asset) => ({
        eventId: `${asset}@${at}`,
        asset,
        index: asset === "USDC" ? "1" : price,
        timestamp: new Date(at).toISOString(),
        source: "test",
      }));
    await ingestPriceEvents(events(LARGEST, T0), { store, now: () => T0 });
    const { reports, files } = memoryReports();
    const deps = { store, now: () => T0, volatility: { BTC: "0.8" }, reports, rendering: exposureRendering };
    const sweep = await sweepAccounts(deps);
    expect(sweep.accounts).toBe(4);
    expect(sweep.evaluated).toBe(4);
    expect(sweep.invalid).toEqual([]);
    const exposure = await runExposureJob(deps);
    expect(exposure.accounts).toBe(4);
    const stress = await runStressJob(deps);
    expect(stress.accounts).toBe(4);
    // Every amount written is a plain decimal string or CSV cell: no exponent, no Infinity, no NaN.
    // (Option greeks are model floats, JSON numbers by design.)
    expect([...files.keys()].some((path) => path.endsWith("accounts.csv"))).toBe(true);
    for (const [path, text] of files) {
      expect(text, path).not.toMatch(/Infinity|NaN/);
      expect(text, path).not.toMatch(/"-?\d+(\.\d+)?[eE][+-]?\d+"/);
      if (path.endsWith(".csv")) expect(text, path).not.toMatch(/(^|,)-?\d+(\.\d+)?[eE][+-]?\d+(,|$)/m);
    }
  });
});

import type { Account } from "@backing/contracts";
import {
  cachedStore,
  explainNotification,
  FundingEventInputError,
  ingestFunding,
  runExposureJob,
  runFundingOrFanOut,
  runTick,
  type Store,
} from "@backing/engine";
import { memoryStore } from "@backing/engine/testing";
import { exposureRendering } from "@backing/reports";
import { beforeEach, describe, expect, it } from "vitest";
import { memoryReports } from "../helpers/reports.ts";

// Funding prints in the stateful engine (DESIGN §3.10). One account on venue-a: 1,000 USDC, long
// 1 BTC perp at 20,000 settled at F = 0 (fundingIndex "0"). Tier 1: IM = P / 125, MM = 0.004 P.
// At BTC 19,200: equity 1,000 − 800 = 200; IM 153.6; warning below 153.6 × 1.2 = 184.32: HEALTHY.
// A print of +0.3 % at 19,200 raises F by 57.6: the long owes 57.6, equity 142.4 < IM 153.6 →
// MARGIN_CALL (call amount 11.2), with no price moving.
const T0 = Date.parse("2026-12-01T00:00:00Z");
const account: Account = {
  id: "a-1",
  venue: "venue-a",
  marginMode: "standard",
  collateral: { USDC: "1000" },
  positions: [
    {
      instrument: "BTC-PERP",
      type: "perp",
      underlying: "BTC",
      size: "1",
      entryPrice: "20000",
      fundingIndex: "0",
    },
  ],
};
const print = (eventId: string, rate: string, minutes: number, extra: Record<string, unknown> = {}) => ({
  eventId,
  venue: "venue-a",
  asset: "BTC",
  rate,
  fundingTime: new Date(T0 + minutes * 60_000).toISOString(),
  source: "venue",
  ...extra,
});

let store: Store;
let clock = T0;
const deps = () => ({ store, now: () => clock });

beforeEach(async () => {
  store = memoryStore();
  clock = T0;
  await seed();
});

async function seed() {
  await store.putAccounts([account]);
  // F = 0 for venue-a BTC, so the account's fundingIndex has something to settle against.
  await ingestFunding(print("f0", "0", -1, { price: "19200" }), deps());
  await runTick(
    ["BTC", "USDC"].map((asset) => ({
      eventId: `${asset}@0`,
      asset,
      index: asset === "BTC" ? "19200" : "1",
      timestamp: new Date(T0).toISOString(),
      source: "feed",
    })),
    deps(),
  );
}

const calls = async () => (await store.listNotifications()).map((n) => `${n.accountId}:${n.type}`);

describe("funding prints in the stateful engine", () => {
  it("advances F at the stored mark when the print has no price: 0.0001 × 19,200 = 1.92", async () => {
    const { outcomes } = await ingestFunding(print("f1", "0.0001", 1), deps());
    expect(outcomes).toEqual([
      { eventId: "f1", venue: "venue-a", asset: "BTC", outcome: "applied", cumulative: "1.92" },
    ]);
  });

  it("a print that pushes an account across a threshold calls it once, and explain reproduces the call", async () => {
    expect(await calls()).toEqual([]);
    const first = await runFundingOrFanOut(print("f1", "0.003", 1), deps());
    expect(first.outcomes[0]).toMatchObject({ outcome: "applied", cumulative: "57.6" });
    expect(await calls()).toEqual(["a-1:margin.call"]);
    const [call] = await store.listNotifications();
    expect(call?.payload.data).toMatchObject({ equity: "142.4", initialMargin: "153.6", callAmount: "11.2" });
    // The same print again (a retry): a duplicate, no second call.
    const again = await runFundingOrFanOut(print("f1", "0.003", 1), deps());
    expect(again.outcomes[0]?.outcome).toBe("duplicate");
    expect(await calls()).toEqual(["a-1:margin.call"]);
    const explained = await explainNotification(store, call?.id as string);
    expect(explained.diffs).toEqual([]);
  });

  it("reaches a book a long-running process parsed before the print (its store returns the same document)", async () => {
    // `backing serve` and the replay keep documents in memory: the book parsed at F = 0 by the
    // tick must not be reused at F = 57.6.
    store = cachedStore(memoryStore(), { ownsBook: true });
    await seed();
    await runFundingOrFanOut(print("f1", "0.003", 1), deps());
    expect(await calls()).toEqual(["a-1:margin.call"]);
  });

  it("the exposure report shows one interval's funding at the latest rate, and who one print would take past MM", async () => {
    await runFundingOrFanOut(print("f1", "0.003", 1), deps());
    const { reports, files } = memoryReports();
    clock = T0 + 120_000;
    const { report } = await runExposureJob({ ...deps(), reports, rendering: exposureRendering });
    // The long pays 1 × 19,200 × 0.003 = 57.6 a print; its distance to MM is 142.4 − 76.8 = 65.6.
    expect(report.assets.BTC?.funding).toEqual({ longsPay: "57.6", shortsPay: "0", net: "57.6" });
    expect(report.fundingAtRisk).toEqual({ count: 0, accounts: [] });
    const fundingCsv = [...files].find(
      ([path]) => path.endsWith("/funding.csv") && !path.includes("venues/"),
    );
    expect(fundingCsv?.[1]).toBe("asset,longsPay,shortsPay,net\nBTC,57.6,0,57.6\n");
  });

  it("re-evaluates only the print's venue's accounts whose perps settle against F", async () => {
    const perp = account.positions[0] as Account["positions"][number];
    const { fundingIndex: _, ...unsettled } = perp as typeof perp & { fundingIndex?: string };
    await store.putAccounts([
      { ...account, id: "other-venue", venue: "venue-b" },
      { ...account, id: "no-index", positions: [unsettled] },
    ]);
    const result = await runFundingOrFanOut(print("f1", "0.001", 1), deps());
    expect(result.accounts).toBe(3); // exposed to BTC
    expect(result.recompute?.evaluated).toBe(1); // a-1 alone settles on venue-a's F
  });

  it("refuses an out-of-order print, a non-numeric rate, or a print with nothing to settle at, writing nothing", async () => {
    await ingestFunding(print("f1", "0.001", 10), deps());
    const before = await store.getFunding();
    const refused = async (input: unknown) => {
      const error = await ingestFunding(input, deps()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FundingEventInputError);
      return (error as FundingEventInputError).issues.map((i) => i.path);
    };
    // A batch with a good print and an older one: refused whole, the good one not applied either.
    expect(await refused([print("f2", "0.001", 20), print("f3", "0.001", 5)])).toEqual(["[1].fundingTime"]);
    expect(await refused(print("f4", "abc", 30))).toEqual(["rate"]);
    expect(await refused(print("f5", "0.001", 30, { asset: "ETH" }))).toEqual(["price"]);
    expect(await refused(print("f6", "0.001", 30, { venue: "a venue" }))).toEqual(["venue"]);
    expect(await store.getFunding()).toEqual(before);
  });
});

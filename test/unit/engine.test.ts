import type { Account, MarginNotificationPayload, RecomputeTask } from "@backing/contracts";
import {
  type EngineDeps,
  type EngineStore,
  expireCalls,
  ingestPriceEvents,
  type NotificationRecord,
  PriceEventInputError,
  recomputeAccounts,
  runRecomputeTask,
  runTick,
  runTickOrFanOut,
  type Store,
  type TaskQueue,
} from "@backing/engine";
import { memoryStore } from "@backing/engine/testing";
import { beforeEach, describe, expect, it } from "vitest";

// One account: 1,000 USDC against a long 1 BTC perp entered at 20,000. Tier 1 (0.4%, 125x):
// equity = 1,000 + P − 20,000, IM = P/125, MM = 0.004·P.
//   MARGIN_CALL below P(1 − 0.008) = 19,000 → P < 19,153.2258
//   LIQUIDATION below P(1 − 0.004) = 19,000 → P < 19,076.3052
//   cure out of MARGIN_CALL needs equity ≥ 1.02·IM → P ≥ 19,000 / 0.99184 = 19,156.31
const account = (id: string): Account => ({
  id,
  venue: "venue-a",
  marginMode: "standard",
  collateral: { USDC: "1000" },
  positions: [{ instrument: "BTC-PERP", type: "perp", underlying: "BTC", size: "1", entryPrice: "20000" }],
});

const T0 = Date.parse("2022-11-08T00:00:00Z");
// Engine logic on the in-memory store: its contract with the DynamoDB store is checked by
// store-contract.ts on both.
let store: Store;
let clock = T0;
const deps = (): EngineDeps => ({ store, now: () => clock });

beforeEach(async () => {
  store = memoryStore();
  clock = T0;
});

function events(minute: number, btc: string, suffix = "") {
  const timestamp = new Date(T0 + minute * 60_000).toISOString();
  return [
    { eventId: `BTC@${minute}${suffix}`, asset: "BTC", index: btc, timestamp, source: "test" },
    { eventId: `USDC@${minute}${suffix}`, asset: "USDC", index: "1", timestamp, source: "test" },
  ];
}

async function tick(minute: number, btc: string) {
  clock = T0 + minute * 60_000;
  return runTick(events(minute, btc), deps());
}

const types = async () => (await store.listNotifications()).map((n) => `${n.accountId}:${n.type}`);

describe("price events → recompute → transactional outbox", () => {
  it("emits one margin.call when BTC falls through the IM threshold, with DESIGN §5's payload", async () => {
    await store.putAccounts([account("a-1")]);
    const first = await tick(0, "20000");
    // Healthy on first sight: evaluated, nothing to store.
    expect(first.recompute).toMatchObject({ evaluated: 1, written: 0 });
    await tick(1, "19100");
    const [notification, ...rest] = await store.listNotifications();
    expect(rest).toEqual([]);
    expect(notification?.type).toBe("margin.call");
    // equity 1,000 − 900 = 100; IM 19,100/125 = 152.8; MM 76.4
    expect(notification?.payload.data).toMatchObject({
      venue: "venue-a",
      account: "a-1",
      status: "MARGIN_CALL",
      // Never evaluated before: it counts as HEALTHY (DESIGN §3.6).
      previousStatus: "HEALTHY",
      equity: "100",
      initialMargin: "152.8",
      maintenanceMargin: "76.4",
      callAmount: "52.8",
      deadline: "2022-11-09T00:01:00.000Z",
      paramsVersion: "2026-01-15",
    });
    expect(
      ((notification as NotificationRecord).payload as MarginNotificationPayload).data.priceSnapshot.prices
        .BTC,
    ).toEqual({
      index: "19100",
      mark: "19100",
    });
  });

  it("never notifies twice for a duplicated event or a replay of the whole path", async () => {
    await store.putAccounts([account("a-1")]);
    const path: [number, string][] = [
      [0, "20000"],
      [1, "19100"],
      [2, "19000"],
      [3, "19600"],
    ];
    for (const [minute, btc] of path) await tick(minute, btc);
    const once = await types();
    expect(once).toEqual(["a-1:margin.call", "a-1:margin.liquidation", "a-1:margin.cured"]);
    clock = T0 + 3 * 60_000;
    const latestAgain = await runTick(events(3, "19600"), deps());
    expect(latestAgain.ingest.outcomes.map((o) => o.outcome)).toEqual(["duplicate", "duplicate"]);
    // An older event delivered again is behind the latest price: refused before its id is even checked.
    const olderAgain = await runTick(events(1, "19100"), deps());
    expect(olderAgain.ingest.outcomes.map((o) => o.outcome)).toEqual(["out-of-order", "out-of-order"]);
    for (const [minute, btc] of path) {
      clock = T0 + minute * 60_000;
      await runTick(events(minute, btc), deps());
    }
    expect(await types()).toEqual(once);
  });

  it("every margin notification carries its episode, the cure the one it closed; a first sight counts as from HEALTHY", async () => {
    await store.putAccounts([account("a-1")]);
    await tick(0, "19100"); // called on first sight
    await tick(1, "19600"); // cured
    const [call, cured] = (await store.listNotifications()).map(
      (n) => (n.payload as MarginNotificationPayload).data,
    );
    expect(call).toMatchObject({ status: "MARGIN_CALL", previousStatus: "HEALTHY" });
    expect(call?.episodeId).toMatch(/\w/);
    expect(cured).toMatchObject({
      status: "HEALTHY",
      previousStatus: "MARGIN_CALL",
      episodeId: call?.episodeId,
    });
  });

  it("each notification of an account knows the ones before it (latest of each type) and comes after them in sequence", async () => {
    await store.putAccounts([account("a-1")]);
    await tick(0, "19100"); // margin.call
    await tick(1, "19600"); // margin.cured
    await tick(2, "19100"); // margin.call again
    clock = T0 + 120_000 + 86_400_000;
    await expireCalls(deps()); // margin.call.expired
    const [call, cured, again, expired] = await store.listNotifications();
    const entry = (n: typeof call) => ({
      id: n?.id,
      type: n?.type,
      createdAtMs: n?.createdAtMs,
      sequence: n?.sequence,
    });
    expect([call, cured, again, expired].map((n) => n?.type)).toEqual([
      "margin.call",
      "margin.cured",
      "margin.call",
      "margin.call.expired",
    ]);
    expect(call?.preceding).toEqual([]);
    expect(cured?.preceding).toEqual([entry(call)]);
    expect(again?.preceding).toEqual([entry(cured), entry(call)]);
    // The second call replaces the first as the latest of its type.
    expect(expired?.preceding).toEqual([entry(again), entry(cured)]);
    const sequences = [call, cured, again, expired].map((n) => n?.sequence as number);
    expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
    expect(new Set(sequences).size).toBe(4);
  });

  it("two workers recomputing the same accounts concurrently emit exactly one call each", async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `c-${i}`);
    await store.putAccounts(ids.map(account));
    await tick(0, "20000");
    clock = T0 + 60_000;
    await ingestPriceEvents(events(1, "19100"), deps());
    const [a, b] = await Promise.all([recomputeAccounts(ids, deps()), recomputeAccounts(ids, deps())]);
    expect((a.notifications["margin.call"] ?? 0) + (b.notifications["margin.call"] ?? 0)).toBe(20);
    expect((await types()).filter((t) => t.endsWith("margin.call"))).toHaveLength(20);
    expect(new Set(await types()).size).toBe(20);
  });

  it("a grouped state write leaves out exactly the accounts whose state moved, and writes the others whole", async () => {
    const ids = Array.from({ length: 60 }, (_, i) => `g-${i}`);
    await store.putAccounts(ids.map(account));
    await tick(0, "20000");
    clock = T0 + 60_000;
    await ingestPriceEvents(events(1, "19100"), deps());
    // Another worker moves three of the states first: the group's writes of those three must fail
    // (their version moved), and with them their notifications; the other 57 are written.
    const moved = ["g-0", "g-31", "g-59"];
    await recomputeAccounts(moved, deps());
    const read = await store.getRiskStates(ids);
    const writes = ids.map((id) => {
      const state = {
        accountId: id,
        venue: "venue-a",
        status: "WARNING" as const,
        episode: null,
        equity: "1",
        initialMargin: "1",
        maintenanceMargin: "1",
        callAmount: "0",
        paramsVersion: "p",
        snapshotId: "s",
        evaluatedAtMs: clock,
        version: 1,
      };
      const notification: NotificationRecord = {
        id: `ntf_group_${id}`,
        type: "margin.warning",
        venue: "venue-a",
        accountId: id,
        episodeId: null,
        createdAtMs: clock,
        payload: {
          type: "margin.warning",
          timestamp: new Date(clock).toISOString(),
          data: {
            venue: "venue-a",
            account: id,
            status: "WARNING",
            previousStatus: null,
            equity: "1",
            initialMargin: "1",
            maintenanceMargin: "1",
            callAmount: "0",
            deadline: null,
            episodeId: null,
            paramsVersion: "p",
            priceSnapshot: { id: "s", prices: {} },
          },
        },
      };
      // Written as if read before the other worker: no state yet.
      return {
        state,
        previous: moved.includes(id) ? null : (read.get(id) ?? null),
        notifications: [notification],
      };
    });
    const conflicted = await store.writeStates(writes);
    expect([...conflicted].sort()).toEqual([...moved].sort());
    const after = await store.getRiskStates(ids);
    for (const id of ids)
      expect(after.get(id)?.status, id).toBe(moved.includes(id) ? "MARGIN_CALL" : "WARNING");
    const grouped = (await store.listNotifications()).filter((n) => n.id.startsWith("ntf_group_"));
    expect(grouped.map((n) => n.accountId).sort()).toEqual(ids.filter((id) => !moved.includes(id)).sort());
  });

  it("a failure between evaluation and write loses nothing: the retry writes the transition once", async () => {
    await store.putAccounts([account("a-1")]);
    await tick(0, "20000");
    clock = T0 + 60_000;
    await ingestPriceEvents(events(1, "19100"), deps());
    let failNext = true;
    const killFirst = () => {
      if (failNext) {
        failNext = false;
        throw new Error("injected: process killed before the write");
      }
    };
    const flaky: EngineStore = Object.create(store, {
      writeState: {
        value: async (...args: Parameters<EngineStore["writeState"]>) => {
          killFirst();
          return store.writeState(...args);
        },
      },
      writeStates: {
        value: async (...args: Parameters<EngineStore["writeStates"]>) => {
          killFirst();
          return store.writeStates(...args);
        },
      },
    });
    await expect(recomputeAccounts(["a-1"], { store: flaky, now: () => clock })).rejects.toThrow("injected");
    expect(await types()).toEqual([]);
    await recomputeAccounts(["a-1"], { store: flaky, now: () => clock });
    await recomputeAccounts(["a-1"], { store: flaky, now: () => clock });
    expect(await types()).toEqual(["a-1:margin.call"]);
  });

  // Issue 17, defect 7: a process killed after its tick's prices are written and before their
  // recompute is durable. The venue (or EventBridge) sends the same events again; before the fix
  // they were duplicates that triggered nothing, and the call at 19,100 was never sent.
  const killOnce = () => {
    let killed = false;
    return () => {
      if (killed) return;
      killed = true;
      throw new Error("injected: process killed after the price write");
    };
  };

  it("a tick killed between its price write and its recompute is finished by the same events sent again (inline)", async () => {
    await store.putAccounts([account("a-1")]);
    await tick(0, "20000");
    const kill = killOnce();
    const dying: EngineStore = Object.create(store, {
      triggeredAccountIds: {
        value: async (...args: Parameters<EngineStore["triggeredAccountIds"]>) => {
          kill();
          return store.triggeredAccountIds(...args);
        },
      },
    });
    clock = T0 + 60_000;
    await expect(runTick(events(1, "19100"), { store: dying, now: () => clock })).rejects.toThrow("injected");
    expect((await store.getPrices()).get("BTC")?.latest?.index).toBe("19100");
    expect(await types()).toEqual([]);
    const again = await runTick(events(1, "19100"), deps());
    expect(again.ingest.outcomes.map((o) => o.outcome)).toEqual(["duplicate", "duplicate"]);
    expect(await types()).toEqual(["a-1:margin.call"]);
    // Sent a third time, the tick is complete: nothing is sent twice.
    await runTick(events(1, "19100"), deps());
    expect(await types()).toEqual(["a-1:margin.call"]);
  });

  it("a tick killed before its fan-out reached the queue is fanned out again by the same events (queued)", async () => {
    await store.putAccounts([account("a-1"), account("a-2")]);
    await tick(0, "20000");
    const sent: RecomputeTask[] = [];
    const kill = killOnce();
    const queue: TaskQueue = {
      send: async (tasks) => {
        kill();
        sent.push(...tasks);
      },
    };
    clock = T0 + 60_000;
    await expect(runTickOrFanOut(events(1, "19100"), { ...deps(), queue }, { batch: 1 })).rejects.toThrow(
      "injected",
    );
    expect(sent).toEqual([]);
    const again = await runTickOrFanOut(events(1, "19100"), { ...deps(), queue }, { batch: 1 });
    expect(again.queued).toBe(2);
    for (const task of sent) await runRecomputeTask(deps(), task);
    expect((await types()).sort()).toEqual(["a-1:margin.call", "a-2:margin.call"]);
  });

  it("a recompute from an older snapshot (a sweep page that began before a tick) never overwrites the newer state", async () => {
    await store.putAccounts([account("a-1")]);
    await tick(0, "20000");
    const before = await store.getPrices(); // read by a slow worker before the crash
    await tick(1, "19100"); // margin.call at the newer prices
    const slow = await recomputeAccounts(["a-1"], deps(), { prices: before });
    expect(slow).toMatchObject({ supersededByNewer: 1, written: 0 });
    expect((await store.getRiskStates(["a-1"])).get("a-1")?.status).toBe("MARGIN_CALL");
    expect(await types()).toEqual(["a-1:margin.call"]);
  });

  it("a price oscillating inside the cure buffer emits one call and no flapping", async () => {
    await store.putAccounts([account("a-1")]);
    await tick(0, "20000");
    const oscillation = ["19150", "19155", "19150", "19156", "19151", "19156.3"];
    for (const [i, btc] of oscillation.entries()) await tick(i + 1, btc);
    expect(await types()).toEqual(["a-1:margin.call"]);
    await tick(10, "19156.4");
    expect(await types()).toEqual(["a-1:margin.call", "a-1:margin.cured"]);
  });

  it("expires an uncured call once after its 24 h deadline", async () => {
    await store.putAccounts([account("a-1")]);
    await tick(0, "20000");
    await tick(1, "19100");
    clock = T0 + 60_000 + 86_400_000 - 1;
    expect(await expireCalls(deps())).toBe(0);
    clock += 1;
    expect(await expireCalls(deps())).toBe(1);
    expect(await expireCalls(deps())).toBe(0);
    expect(await types()).toEqual(["a-1:margin.call", "a-1:margin.call.expired"]);
  });
});

describe("risk parameters in the store", () => {
  it("evaluates with the stored set and keeps every version", async () => {
    await store.putAccounts([account("a-1")]);
    const { DEFAULT_RISK_PARAMS } = await import("@backing/core");
    // A 600% warning buffer puts the account in WARNING on first sight: equity 1,000 < IM 160 × 7 = 1,120.
    await store.putParams({
      ...DEFAULT_RISK_PARAMS,
      version: "test-wide-warning",
      status: { ...DEFAULT_RISK_PARAMS.status, warningBuffer: "6" },
    });
    await tick(0, "20000");
    const [warning] = await store.listNotifications();
    expect(warning?.type).toBe("margin.warning");
    expect(((warning as NotificationRecord).payload as MarginNotificationPayload).data.paramsVersion).toBe(
      "test-wide-warning",
    );
    const kept = await (
      store as unknown as { getParamsVersion(v: string): Promise<unknown> }
    ).getParamsVersion("test-wide-warning");
    expect(kept).toMatchObject({ version: "test-wide-warning" });
  });
});

describe("price guards at ingest", () => {
  it("rejects stale and out-of-order prices and writes nothing for them", async () => {
    clock = T0 + 10 * 60_000;
    const stale = await ingestPriceEvents(events(0, "20000"), deps());
    expect(stale.outcomes.map((o) => o.outcome)).toEqual(["stale", "stale"]);
    expect((await store.getPrices()).size).toBe(0);
    await ingestPriceEvents(events(10, "20000"), deps());
    const older = await ingestPriceEvents(events(9, "21000", "-late"), deps());
    expect(older.outcomes.map((o) => o.outcome)).toEqual(["out-of-order", "out-of-order"]);
    expect((await store.getPrices()).get("BTC")?.latest?.index).toBe("20000");
  });

  it("refuses a future-dated price, so it cannot freeze its asset: the real prices after it still call the account", async () => {
    await store.putAccounts([account("a-1")]);
    await tick(0, "20000");
    clock = T0 + 60_000;
    const future = await ingestPriceEvents(
      [{ eventId: "x", asset: "BTC", index: "19100", timestamp: "2099-01-01T00:00:00Z", source: "f" }],
      deps(),
    );
    expect(future.outcomes).toEqual([
      {
        eventId: "x",
        asset: "BTC",
        outcome: "rejected",
        reason: expect.stringMatching(/^future-dated: .*maxFutureSkewSeconds \(5 s\)$/),
      },
    ]);
    expect((await store.getPrices()).get("BTC")?.latest?.index).toBe("20000");
    // 19,100 < 19,153.2258: the account is called on the next real price.
    await tick(2, "19100");
    expect(await types()).toEqual(["a-1:margin.call"]);
  });

  it("refuses a malformed event with its path and writes nothing", async () => {
    const bad = [{ eventId: "x", asset: "BTC", index: "-5", timestamp: "now", source: "t" }];
    const error = await ingestPriceEvents(bad, deps()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PriceEventInputError);
    expect((error as PriceEventInputError).issues.map((i) => i.path)).toEqual(["[0].index", "[0].timestamp"]);
    expect((await store.getPrices()).size).toBe(0);
  });

  it("holds a jump over 25% until a second update confirms it, and recomputes nothing meanwhile", async () => {
    await store.putAccounts([account("a-1")]);
    await tick(0, "20000");
    const held = await tick(1, "14000");
    expect(held.ingest.outcomes[0]?.outcome).toBe("held");
    expect(held.recompute.evaluated).toBe(0);
    expect((await store.getPrices()).get("BTC")?.latest?.index).toBe("20000");
    const confirmed = await tick(2, "14100");
    expect(confirmed.ingest.outcomes[0]).toMatchObject({
      outcome: "accepted",
      reason: "confirms the held jump",
    });
    expect(await types()).toEqual(["a-1:margin.liquidation"]);
  });
});

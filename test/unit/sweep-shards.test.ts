import type { Account, SweepTask } from "@backing/contracts";
import { DEFAULT_RISK_PARAMS, seededRandom } from "@backing/core";
import {
  ingestPriceEvents,
  runSweepTask,
  type ShardedSweepDeps,
  type Store,
  startShardedSweep,
  sweepAccounts,
} from "@backing/engine";
import { memoryStore } from "@backing/engine/testing";
import { describe, expect, it } from "vitest";
import { syntheticAccount } from "../helpers/synthetic-book.ts";

const T0 = Date.parse("2026-01-15T00:00:00Z");
const now = () => T0;
const book = (() => {
  const random = seededRandom(7);
  // Thin collateral (5,000 to 45,000 USDC), so the crash below calls some accounts and not others.
  return Array.from(
    { length: 240 },
    (_, i): Account => ({
      ...(syntheticAccount(i, random, { accounts: 240, perps: 3 }) as unknown as Account),
      collateral: { USDC: String(5_000 + ((i * 397) % 40_000)) },
    }),
  );
})();

/** A store with the book and a crash price: BTC −45 %, ETH −40 %, SOL −50 % (some accounts fall to a call). */
async function crashedStore(): Promise<Store> {
  const store = memoryStore();
  await store.putAccounts(book);
  const timestamp = new Date(T0).toISOString();
  await ingestPriceEvents(
    Object.entries({ BTC: "55000", ETH: "1800", SOL: "75", USDC: "1" }).map(([asset, index]) => ({
      eventId: `${asset}@crash`,
      asset,
      index,
      timestamp,
      source: "test",
    })),
    { store, now },
  );
  return store;
}

/** The sweep's queue, held: the test hands tasks to workers itself (any order, retries). */
function heldQueue() {
  const tasks: SweepTask[] = [];
  return { tasks, send: async (sent: readonly SweepTask[]) => void tasks.push(...sent) };
}

const outcome = async (store: Store) => ({
  states: await store.getRiskStates(book.map((a) => a.id)),
  notifications: (await store.listNotifications()).map((n) => `${n.accountId} ${n.type} ${n.id}`).sort(),
});

describe("the sharded sweep", () => {
  it("writes exactly what the single-process sweep writes, and its summary adds up to the same totals", async () => {
    const single = await crashedStore();
    const alone = await sweepAccounts({ store: single, now });
    const sharded = await crashedStore();
    const queue = heldQueue();
    const deps: ShardedSweepDeps = { store: sharded, now, sweepQueue: queue };
    const start = await startShardedSweep(deps, { segments: 5 });
    expect(start).toMatchObject({ started: true, segments: 5 });
    expect(queue.tasks.map((t) => t.segment)).toEqual([0, 1, 2, 3, 4]);
    // Workers finish in any order; the last report assembles the summary.
    const results = [];
    for (const task of [...queue.tasks].reverse()) results.push(await runSweepTask(deps, task));
    expect(results.slice(0, 4).every((r) => r.summary === null)).toBe(true);
    const summary = results[4]?.summary;
    expect(alone.written).toBeGreaterThan(0);
    expect(Object.values(alone.notifications).reduce((a, b) => a + (b ?? 0), 0)).toBeGreaterThan(0);
    expect(summary).toMatchObject({
      accounts: alone.accounts,
      evaluated: alone.evaluated,
      written: alone.written,
      notifications: alone.notifications,
      expired: alone.expired,
      staleAssets: alone.staleAssets,
    });
    expect(await outcome(sharded)).toEqual(await outcome(single));
    if (start.started) expect((await sharded.getSweepRun(start.sweepId))?.summary).toEqual(summary);
  });

  it("runs one sweep when two coordinators start together, and the next once the first has finished", async () => {
    const store = await crashedStore();
    const queue = heldQueue();
    const deps: ShardedSweepDeps = { store, now, sweepQueue: queue };
    const starts = await Promise.all([
      startShardedSweep(deps, { segments: 2 }),
      startShardedSweep(deps, { segments: 2 }),
    ]);
    expect(starts.filter((s) => s.started)).toHaveLength(1);
    expect(queue.tasks).toHaveLength(2);
    for (const task of queue.tasks.splice(0)) await runSweepTask(deps, task);
    expect(await startShardedSweep(deps, { segments: 2 })).toMatchObject({ started: true });
  });

  it("takes over a lease whose sweep never finished, once the lease has run out", async () => {
    const store = await crashedStore();
    let clock = T0;
    const deps: ShardedSweepDeps = { store, now: () => clock, sweepQueue: heldQueue() };
    expect(await startShardedSweep(deps, { segments: 2, leaseMs: 60_000 })).toMatchObject({ started: true });
    clock = T0 + 60_000;
    expect(await startShardedSweep(deps, { segments: 2, leaseMs: 60_000 })).toEqual({ started: false });
    clock = T0 + 60_001;
    expect(await startShardedSweep(deps, { segments: 2, leaseMs: 60_000 })).toMatchObject({ started: true });
  });

  it("loses and duplicates no transition when a worker dies mid-segment and the queue retries it", async () => {
    const single = await crashedStore();
    await sweepAccounts({ store: single, now });
    const store = await crashedStore();
    // The worker dies halfway through its grouped state write: half its transitions are stored.
    let stored = 0;
    const dying: Store = Object.assign(Object.create(store) as Store, {
      writeStates: async (writes: Parameters<Store["writeStates"]>[0]) => {
        stored = Math.floor(writes.length / 2);
        await store.writeStates(writes.slice(0, stored));
        throw new Error("worker killed");
      },
    });
    const queue = heldQueue();
    const deps: ShardedSweepDeps = { store, now, sweepQueue: queue };
    await startShardedSweep(deps, { segments: 1 });
    const [task] = queue.tasks;
    await expect(runSweepTask({ ...deps, store: dying }, task)).rejects.toThrow("worker killed");
    expect(stored).toBeGreaterThan(0);
    expect((await store.listNotifications()).length).toBeGreaterThan(0);
    const retried = await runSweepTask(deps, task);
    expect(retried.summary).not.toBeNull();
    expect(await outcome(store)).toEqual(await outcome(single));
  });

  it("refuses a task that is not one: a poison message fails on its own", async () => {
    const store = await crashedStore();
    const deps = { store, now };
    await expect(runSweepTask(deps, { sweepId: "x", segment: 2, segments: 2 })).rejects.toThrow(
      "does not exist",
    );
    await expect(runSweepTask(deps, { sweepId: "nope", segment: 0, segments: 1 })).rejects.toThrow(
      "no sweep run nope",
    );
    await expect(runSweepTask(deps, { segment: 0 })).rejects.toThrow();
  });

  /** A book swept in full at calm prices (bands written), then a crash price stored by a tick that died before recomputing. */
  async function lostCrashTick() {
    const store = memoryStore();
    await store.putAccounts(book);
    let clock = T0;
    const priced = async (prices: Record<string, string>, id: string) =>
      ingestPriceEvents(
        Object.entries(prices).map(([asset, index]) => ({
          eventId: `${asset}@${id}`,
          asset,
          index,
          timestamp: new Date(clock).toISOString(),
          source: "test",
        })),
        { store, now: () => clock },
      );
    await priced({ BTC: "100000", ETH: "3000", SOL: "150", USDC: "1" }, "calm");
    const queue = heldQueue();
    const deps: ShardedSweepDeps = { store, now: () => clock, sweepQueue: queue };
    expect(await startShardedSweep(deps, { segments: 3 })).toMatchObject({ mode: "full" });
    for (const task of queue.tasks.splice(0)) await runSweepTask(deps, task);
    // The crash in steps of 5 % (each within the price guard's jump limit): the ticks' prices are
    // stored, and none of them recomputed.
    for (let step = 1; step <= 12; step++) {
      clock = T0 + step * 2_000;
      const f = 0.95 ** step;
      await priced(
        { BTC: String(100000 * f), ETH: String(3000 * f), SOL: String(150 * f), USDC: "1" },
        `crash${step}`,
      );
    }
    clock = T0 + 60_000;
    return { store, queue, deps };
  }

  it("an index sweep between full sweeps finds every transition a lost tick left behind, as a full sweep does (no miss)", async () => {
    const viaIndex = await lostCrashTick();
    const viaFull = await lostCrashTick();
    const index = await startShardedSweep(viaIndex.deps);
    expect(index).toMatchObject({ started: true, mode: "index", segments: 1 });
    const [task] = viaIndex.queue.tasks.splice(0);
    const { summary } = await runSweepTask(viaIndex.deps, task);
    expect(await startShardedSweep(viaFull.deps, { segments: 3, fullEveryMs: 0 })).toMatchObject({
      mode: "full",
    });
    for (const t of viaFull.queue.tasks.splice(0)) await runSweepTask(viaFull.deps, t);

    const found = await outcome(viaIndex.store);
    expect(found).toEqual(await outcome(viaFull.store));
    expect(found.notifications.length).toBeGreaterThan(0);
    // It re-evaluated only the accounts whose bands the crash price left, not the book.
    expect(summary?.evaluated).toBeGreaterThan(0);
    expect(summary?.evaluated).toBeLessThan(book.length);
  });

  it("sweeps in full every fullEveryMs and at once after a params change; index sweeps in between", async () => {
    const { store, queue, deps } = await lostCrashTick();
    let clock = T0 + 60_000;
    const at = { ...deps, now: () => clock };
    const sweep = async (options = {}) => {
      const start = await startShardedSweep(at, options);
      for (const task of queue.tasks.splice(0)) await runSweepTask(at, task);
      return start.started ? start.mode : null;
    };
    expect(await sweep()).toBe("index");
    clock = T0 + 15 * 60_000 - 1;
    expect(await sweep()).toBe("index");
    clock = T0 + 15 * 60_000;
    expect(await sweep()).toBe("full");
    clock += 60_000;
    expect(await sweep()).toBe("index");
    const params = (await store.getParams()) ?? DEFAULT_RISK_PARAMS;
    await store.putParams({ ...params, version: `${params.version}-next` });
    clock += 60_000;
    expect(await sweep()).toBe("full");
    clock += 60_000;
    expect(await sweep()).toBe("index");
    expect(await sweep({ fullEveryMs: 0 })).toBe("full");
  });
});

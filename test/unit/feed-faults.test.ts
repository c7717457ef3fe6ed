import type { Account } from "@backing/contracts";
import { PriceEventInputError, runTick, type Store } from "@backing/engine";
import { memoryStore } from "@backing/engine/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

// Issue 17's feed-fault property: whatever future-dated, stale, zero, duplicate and out-of-order
// events a feed mixes into its valid ones, the engine ends where the valid ones alone take it, and
// no asset is ever frozen (the next good price is taken). Guards: maxPriceAgeSeconds 120,
// maxFutureSkewSeconds 5, maxJump 25% (the shipped defaults).
const T0 = Date.parse("2022-11-08T00:00:00Z");
const ACCOUNTS: Account[] = [
  ["long", "1000", "1"],
  ["short", "1000", "-1"],
  ["thin", "300", "1"],
  ["thin-short", "300", "-1"],
].map(([id, usdc, size]) => ({
  id: id as string,
  venue: "v",
  marginMode: "standard",
  collateral: { USDC: usdc as string },
  positions: [
    { instrument: "BTC-PERP", type: "perp", underlying: "BTC", size: size as string, entryPrice: "20000" },
  ],
}));

type Event = { eventId: string; asset: string; index: string; timestamp: string; source: string };
type Step = { clock: number; event: Event; valid: boolean };

const event = (eventId: string, asset: string, index: string, ms: number): Event => ({
  eventId,
  asset,
  index,
  timestamp: new Date(ms).toISOString(),
  source: "feed",
});

/** A valid path (BTC in moves of up to ±3% a step, USDC at 1, 10 s apart) with faults mixed in. */
const feed = fc
  .record({
    moves: fc.array(fc.integer({ min: -300, max: 300 }), { minLength: 3, maxLength: 25 }),
    faults: fc.array(
      fc.record({
        after: fc.nat(),
        kind: fc.constantFrom("future", "far-future", "stale", "zero", "duplicate", "out-of-order"),
        price: fc.integer({ min: 1, max: 60_000 }),
      }),
      { maxLength: 20 },
    ),
  })
  .map(({ moves, faults }) => {
    const valid: Step[] = [];
    let btc = 20_000;
    moves.forEach((move, i) => {
      btc = Math.round(btc * (1 + move / 10_000));
      const at = T0 + i * 10_000;
      valid.push({ clock: at, event: event(`BTC@${i}`, "BTC", String(btc), at), valid: true });
      valid.push({ clock: at, event: event(`USDC@${i}`, "USDC", "1", at), valid: true });
    });
    const steps: Step[] = [];
    const bad = [...faults].sort((a, b) => a.after - b.after);
    valid.forEach((step, i) => {
      steps.push(step);
      for (const fault of bad.filter((f) => f.after % valid.length === i)) {
        const id = `bad-${steps.length}`;
        const price = String(fault.price);
        const at = step.clock;
        const fake: Record<typeof fault.kind, Event> = {
          future: event(id, "BTC", price, at + 5_001),
          "far-future": event(id, "BTC", price, Date.parse("2099-01-01T00:00:00Z")),
          stale: event(id, "BTC", price, at - 120_001),
          zero: event(id, "BTC", "0", at),
          duplicate: valid[Math.floor(i / 2) * 2]?.event ?? step.event,
          "out-of-order": event(id, "BTC", price, at - 1),
        };
        steps.push({ clock: at, event: fake[fault.kind], valid: false });
      }
    });
    return steps;
  });

async function play(steps: readonly Step[]): Promise<Store> {
  const store = memoryStore();
  await store.putAccounts(ACCOUNTS);
  for (const { clock, event } of steps) {
    await runTick([event], { store, now: () => clock }).catch((error: unknown) => {
      if (!(error instanceof PriceEventInputError)) throw error;
    });
  }
  return store;
}

async function stateOf(store: Store) {
  const states = await store.getRiskStates(ACCOUNTS.map((a) => a.id));
  return {
    prices: Object.fromEntries(await store.getPrices()),
    states: [...states.values()].map(({ evidence: _, evaluatedAtMs: __, ...rest }) => rest),
    notifications: (await store.listNotifications()).map((n) => `${n.id}:${n.accountId}:${n.type}`).sort(),
  };
}

describe("a feed's faults change nothing and freeze nothing", () => {
  it("the engine's state after any mix of valid and faulty events equals its state after the valid ones", async () => {
    await fc.assert(
      fc.asyncProperty(feed, async (steps) => {
        const mixed = await play(steps);
        const clean = await play(steps.filter((s) => s.valid));
        expect(await stateOf(mixed)).toEqual(await stateOf(clean));
        // Not frozen: the next good price, 10 s on, is the asset's latest.
        const last = Math.max(...steps.filter((s) => s.valid).map((s) => s.clock)) + 10_000;
        const latestBtc = (await mixed.getPrices()).get("BTC")?.latest?.index ?? "20000";
        await runTick([event("next", "BTC", latestBtc, last)], { store: mixed, now: () => last });
        expect((await mixed.getPrices()).get("BTC")?.latest?.eventId).toBe("next");
      }),
      { numRuns: 200 },
    );
  });
});

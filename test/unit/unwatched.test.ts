import type { Account, UnwatchedNotificationPayload } from "@backing/contracts";
import { type EngineStore, ingestPriceEvents, type Store, sweepAccounts } from "@backing/engine";
import { memoryStore } from "@backing/engine/testing";
import { beforeEach, describe, expect, it } from "vitest";

// Issue 17: accounts that become impossible to evaluate after they were stored (a future past its
// expiry, an asset no longer priced) were skipped by every sweep, silently. Now each is marked,
// announced once with `account.unwatched`, listed, and cleared once it can be evaluated again.
const T0 = Date.parse("2026-12-01T00:00:00Z");
const EXPIRY = "2026-12-01T08:00:00Z";
const account = (id: string, positions: Account["positions"]): Account => ({
  id,
  venue: "v",
  marginMode: "standard",
  collateral: { USDC: "1000" },
  positions,
});
const future = {
  instrument: "BTC-F",
  type: "future",
  underlying: "BTC",
  size: "1",
  entryPrice: "20000",
  expiry: EXPIRY,
} as const;
const perp = {
  instrument: "BTC-PERP",
  type: "perp",
  underlying: "BTC",
  size: "1",
  entryPrice: "20000",
} as const;

let store: Store;
let clock = T0;
const deps = (s: EngineStore = store) => ({ store: s, now: () => clock });
const price = async (at: number) => {
  clock = at;
  await ingestPriceEvents(
    ["BTC", "USDC"].map((asset) => ({
      eventId: `${asset}@${at}`,
      asset,
      index: asset === "BTC" ? "20000" : "1",
      timestamp: new Date(at).toISOString(),
      source: "t",
    })),
    deps(),
  );
};
const unwatchedSent = async () =>
  (await store.listNotifications())
    .filter((n) => n.type === "account.unwatched")
    .map((n) => (n.payload as UnwatchedNotificationPayload).data);

beforeEach(async () => {
  store = memoryStore();
  await store.putAccounts([account("expiring", [future]), account("fine", [perp])]);
  await price(T0);
});

describe("accounts that can no longer be evaluated are never silently unwatched", () => {
  it("a future past its expiry: marked and announced once, listed, and cleared when the account is fixed", async () => {
    expect((await sweepAccounts(deps())).unwatched).toBe(0);
    const after = Date.parse(EXPIRY) + 60_000;
    await price(after);
    const first = await sweepAccounts(deps());
    expect(first.unwatched).toBe(1);
    expect(await unwatchedSent()).toEqual([
      {
        venue: "v",
        account: "expiring",
        reasons: [
          `positions[0].expiry: instrument expired at ${EXPIRY} (asOf ${new Date(after).toISOString()})`,
        ],
        since: new Date(after).toISOString(),
      },
    ]);
    expect((await store.listUnwatched()).map((m) => m.accountId)).toEqual(["expiring"]);
    // A second sweep sends nothing again.
    await price(after + 60_000);
    await sweepAccounts(deps());
    expect(await unwatchedSent()).toHaveLength(1);
    // The venue rolls the future into a perp: the next full sweep evaluates it and clears the mark.
    await store.putAccounts([account("expiring", [perp])]);
    expect((await sweepAccounts(deps())).unwatched).toBe(0);
    expect(await store.listUnwatched()).toEqual([]);
  });

  it("a sweep killed after marking and before the notification sends it next time, with the same id, once", async () => {
    await price(Date.parse(EXPIRY) + 60_000);
    const dying: EngineStore = Object.create(store, {
      putNotifications: {
        value: async () => {
          throw new Error("injected: process killed before the outbox write");
        },
      },
    });
    await expect(sweepAccounts(deps(dying))).rejects.toThrow("injected");
    expect(await store.listUnwatched()).toMatchObject([{ accountId: "expiring", notified: false }]);
    await sweepAccounts(deps());
    await sweepAccounts(deps());
    const sent = (await store.listNotifications()).filter((n) => n.type === "account.unwatched");
    expect(sent).toHaveLength(1);
    expect(await store.listUnwatched()).toMatchObject([{ accountId: "expiring", notified: true }]);
  });
});

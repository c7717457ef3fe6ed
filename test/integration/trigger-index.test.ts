import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { Account } from "@backing/contracts";
import { keys } from "@backing/dynamo";
import {
  cachedStore,
  type EngineStore,
  ingestFunding,
  ingestPriceEvents,
  runFundingOrFanOut,
  runTick,
  sweepAccounts,
} from "@backing/engine";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { accountArbitrary, nearThresholds, pricesArbitrary } from "../helpers/arbitraries.ts";
import { freshStore } from "../helpers/dynamo.ts";

const T0 = Date.parse("2026-01-15T00:00:00Z");
const VOLATILITY = { BTC: "0.55", ETH: "0.7" };
const drops: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const drop of drops) await drop();
});

/** A BTC perp (entry 20,000) of this size on this much USDC. */
const btcPerpAccount = (id: string, size: string, usdc: string) =>
  Account.parse({
    id,
    venue: "v",
    collateral: { USDC: usdc },
    positions: [{ instrument: "BTC-PERP", type: "perp", underlying: "BTC", size, entryPrice: "20000" }],
  });

/** Moves `prices` by `moves` (relative, in place) and gives the step's event for every priced asset. */
function movedPrices(
  prices: Record<string, string>,
  moves: Record<string, number>,
  step: number,
  timestamp: string,
) {
  for (const [asset, move] of Object.entries(moves))
    prices[asset] = (Number(prices[asset]) * (1 + move)).toFixed(6);
  return Object.entries(prices).map(([asset, index]) => ({
    eventId: `${asset}@${step}`,
    asset,
    index,
    timestamp,
    source: "test",
  }));
}

const statuses = async (store: EngineStore, ids: string[]) => {
  const states = await store.getRiskStates(ids);
  return Object.fromEntries(ids.map((id) => [id, states.get(id)?.status ?? "HEALTHY"]));
};

describe("trigger index on DynamoDB Local", () => {
  it.each([
    ["the table's index", false],
    ["the local process's in-memory index", true],
  ])(
    "the band-triggered tick path (%s) leaves every account in the state a full recompute gives, tick after tick",
    async (_, inMemory) => {
      await fc.assert(
        fc.asyncProperty(
          pricesArbitrary,
          fc.array(fc.tuple(accountArbitrary("x"), fc.double({ min: 0.85, max: 1.45, noNaN: true })), {
            minLength: 1,
            maxLength: 6,
          }),
          fc.array(
            fc.dictionary(
              fc.constantFrom("BTC", "ETH", "SOL", "stETH"),
              fc.double({ min: -0.1, max: 0.1, noNaN: true }),
              {
                minKeys: 1,
              },
            ),
            { minLength: 1, maxLength: 5 },
          ),
          async (start, drawn, path) => {
            // Steered near their thresholds, so the path crosses them (see nearThresholds).
            const accounts = nearThresholds(
              start,
              drawn.map(([a, ratio], i) => ({ account: { ...a, id: `a-${i}` }, ratio })),
            );
            const book = Account.array().parse(accounts);
            const ids = book.map((a) => a.id);
            const [table, full] = await Promise.all([freshStore(), freshStore()]);
            drops.push(table.drop, full.drop);
            const banded = { store: inMemory ? cachedStore(table.store, { ownsBook: true }) : table.store };
            await Promise.all([banded.store.putAccounts(book), full.store.putAccounts(book)]);
            const prices: Record<string, string> = { ...start, USDC: "1", USDT: "0.9995" };
            for (const [step, moves] of [{}, ...path].entries()) {
              const timestamp = new Date(T0 + step * 60_000).toISOString();
              const events = movedPrices(prices, moves, step, timestamp);
              const now = () => Date.parse(timestamp);
              await runTick(events, { store: banded.store, now, volatility: VOLATILITY });
              await runTick(events, { store: full.store, now, volatility: VOLATILITY }, { mode: "full" });
              expect(await statuses(banded.store, ids), `step ${step}`).toEqual(
                await statuses(full.store, ids),
              );
            }
            const notified = async (store: EngineStore) =>
              (await store.listNotifications()).map((n) => `${n.accountId}:${n.type}`).sort();
            expect(await notified(banded.store)).toEqual(await notified(full.store));
          },
        ),
        { numRuns: 8 },
      );
    },
    240_000,
  );

  it("a tick reads only the accounts whose band it leaves", async () => {
    const { store, drop } = await freshStore();
    drops.push(drop);
    // 1 BTC long at 20,000 (IM 160, MM 80): HEALTHY changes only below 1.2·IM, so B = E − 192; BTC
    // gets the share 807.68 / (807.68 + 0.002·USDC) of it (weights rate × price × typical move:
    // 1.0096 × 20,000 × 0.04 and USDC × 1 × 0.002), over its rate 1 + 1.2·0.008 = 1.0096.
    // a-1 (E = 20,000): 19,808 × 0.9528 / 1.0096 ≈ ±18,690. a-2 (E = 300): 108 × 0.9993 / 1.0096 ≈ ±107.
    const account = (id: string, usdc: string) => btcPerpAccount(id, "1", usdc);
    await store.putAccounts([account("a-1", "20000"), account("a-2", "300")]);
    const tick = (step: number, btc: string) => {
      const timestamp = new Date(T0 + step * 60_000).toISOString();
      return runTick(
        [
          { eventId: `BTC@${step}`, asset: "BTC", index: btc, timestamp, source: "t" },
          { eventId: `USDC@${step}`, asset: "USDC", index: "1", timestamp, source: "t" },
        ],
        { store, now: () => Date.parse(timestamp) },
      );
    };
    // First sight: no bands yet, both evaluated.
    expect((await tick(0, "20000")).triggered).toBe(2);
    // BTC −1%: inside a-1's band, outside a-2's.
    expect((await tick(1, "19800")).triggered).toBe(1);
    expect((await tick(2, "19800")).triggered).toBe(0);
  });
});

describe("trigger index with funding prints (DESIGN §3.10)", () => {
  it("prices and funding prints interleaved: the band-triggered path never misses a status change a full recompute finds", async () => {
    const venues = ["venue-a", "venue-b"];
    const assets = ["BTC", "ETH", "SOL"] as const;
    // Prints that changed some account's status in the full recompute: the property is not vacuous.
    let crossedByFunding = 0;
    await fc.assert(
      fc.asyncProperty(
        pricesArbitrary,
        // Perp accounts placed near their call threshold: equity ≈ factor × notional / 125.
        fc.array(
          fc.record({
            venue: fc.constantFrom(...venues),
            underlying: fc.constantFrom("BTC", "ETH"),
            units: fc.integer({ min: -40, max: 40 }).filter((u) => u !== 0),
            entry: fc.integer({ min: 90, max: 110 }),
            factor: fc.integer({ min: 70, max: 180 }),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        fc.array(
          fc.oneof(
            fc.record({
              kind: fc.constant("prices" as const),
              moves: fc.dictionary(
                fc.constantFrom(...assets),
                fc.double({ min: -0.05, max: 0.05, noNaN: true }),
                {
                  minKeys: 1,
                },
              ),
            }),
            fc.record({
              kind: fc.constant("funding" as const),
              // Which of the book's perp (venue, underlying) pairs the print is for.
              which: fc.nat(),
              // Up to 1 % of the price per print: enough to cross a threshold without a price move.
              rate: fc.constantFrom("-0.01", "-0.003", "-0.001", "0.001", "0.003", "0.01"),
            }),
          ),
          { minLength: 1, maxLength: 6 },
        ),
        async (start, drawn, path) => {
          // Every perp settles against F (from 0), so each print moves its account's equity.
          const accounts = drawn.map((d, i) => {
            const price = Number(start[d.underlying]);
            const size = d.underlying === "BTC" ? d.units / 100 : d.units / 10;
            const entry = (price * d.entry) / 100;
            const pnl = size * (price - entry);
            const collateral = ((Math.abs(size) * price) / 125) * (d.factor / 100) - pnl;
            return {
              id: `f-${i}`,
              venue: d.venue,
              collateral: { USDC: Math.max(1, collateral).toFixed(2) },
              positions: [
                {
                  instrument: `${d.underlying}-PERP`,
                  type: "perp",
                  underlying: d.underlying,
                  size: size.toFixed(2),
                  entryPrice: entry.toFixed(2),
                  fundingIndex: "0",
                },
              ],
            };
          });
          const book = Account.array().parse(accounts);
          const ids = book.map((a) => a.id);
          const [table, full] = await Promise.all([freshStore(), freshStore()]);
          drops.push(table.drop, full.drop);
          const stores = [table.store, full.store];
          await Promise.all(stores.map((store) => store.putAccounts(book)));
          const prices: Record<string, string> = { ...start, USDC: "1", USDT: "0.9995" };
          const zero = venues.flatMap((venue) =>
            assets.map((asset) => ({
              eventId: `F0-${venue}-${asset}`,
              venue,
              asset,
              rate: "0",
              fundingTime: new Date(T0 - 1).toISOString(),
              price: "1",
              source: "test",
            })),
          );
          for (const store of stores) await ingestFunding(zero, { store, now: () => T0 });
          for (const [step, event] of [{ kind: "prices" as const, moves: {} }, ...path].entries()) {
            // 10 s apart: the prices stay fresh through the path (no transition on a stale price).
            const timestamp = new Date(T0 + step * 10_000).toISOString();
            const now = () => Date.parse(timestamp);
            if (event.kind === "prices") {
              const events = movedPrices(prices, event.moves, step, timestamp);
              await runTick(events, { store: table.store, now, volatility: VOLATILITY });
              await runTick(events, { store: full.store, now, volatility: VOLATILITY }, { mode: "full" });
            } else {
              const pairs = [
                ...new Set(
                  book.flatMap((a) =>
                    a.positions.filter((p) => p.type === "perp").map((p) => `${a.venue}#${p.underlying}`),
                  ),
                ),
              ];
              const [venue, asset] = (pairs[event.which % Math.max(1, pairs.length)] ?? "venue-a#BTC").split(
                "#",
              );
              const print = {
                eventId: `F${step}`,
                venue,
                asset,
                rate: event.rate,
                fundingTime: timestamp,
                source: "test",
              };
              const before = JSON.stringify(await statuses(full.store, ids));
              for (const store of stores)
                await runFundingOrFanOut(print, { store, now, volatility: VOLATILITY });
              if (JSON.stringify(await statuses(full.store, ids)) !== before) crossedByFunding++;
            }
            expect(await statuses(table.store, ids), `step ${step} (${event.kind})`).toEqual(
              await statuses(full.store, ids),
            );
          }
        },
      ),
      { numRuns: 8 },
    );
    expect(crossedByFunding).toBeGreaterThan(0);
  }, 240_000);
});

describe("band writes", () => {
  it("the index holds the band written, and reads it back as the tick's range queries see it", async () => {
    const { store, drop } = await freshStore();
    drops.push(drop);
    const band = (low: string | null, high: string | null) => [{ accountId: "b-1", asset: "BTC", low, high }];
    const triggeredAt = async (price: string) =>
      (await store.triggeredAccountIds("BTC", price, price)).includes("b-1");
    const stored = async () =>
      (await store.getBands([{ accountId: "b-1", assets: ["BTC", "ETH"] }])).get("b-1");
    await store.putBands(band("100", "200"));
    expect([await triggeredAt("95"), await triggeredAt("150"), await triggeredAt("205")]).toEqual([
      true,
      false,
      true,
    ]);
    expect(await stored()).toEqual([{ accountId: "b-1", asset: "BTC", low: "100", high: "200" }]);
    // Replaced as written, narrower or wider.
    await store.putBands(band("110", "190"));
    expect([await triggeredAt("105"), await triggeredAt("150"), await triggeredAt("195")]).toEqual([
      true,
      false,
      true,
    ]);
    await store.putBands(band("90", "210"));
    expect([await triggeredAt("95"), await triggeredAt("205")]).toEqual([false, false]);
    // Edges beyond 20 decimals are indexed rounded toward the inside, and read back so.
    await store.putBands(band("100.000000000000000000001", "199.999999999999999999999"));
    expect(await stored()).toEqual([
      { accountId: "b-1", asset: "BTC", low: "100.00000000000000000001", high: "199.99999999999999999999" },
    ]);
    // Unbounded both ways (0 and Infinity): left out of both indexes, no price triggers it.
    await store.putBands(band("0", "Infinity"));
    expect([await triggeredAt("0.0001"), await triggeredAt("1000000000")]).toEqual([false, false]);
    expect(await stored()).toEqual([{ accountId: "b-1", asset: "BTC", low: "0", high: "Infinity" }]);
    // No band: every price triggers.
    await store.putBands(band(null, null));
    expect(await triggeredAt("150")).toBe(true);
    expect(await stored()).toEqual([{ accountId: "b-1", asset: "BTC", low: null, high: null }]);
  });

  it("a fall reads the longs whose band it leaves and never a healthy short; a rise the other way round", async () => {
    const { store, drop } = await freshStore();
    drops.push(drop);
    // 1 BTC long (l) and 1 BTC short (s) at 20,000 on 400 USDC each (IM 160): HEALTHY, margin
    // E − 1.2·IM = 208. l loses 1 − 1.2·0.008 = 0.9904 per unit of a fall and nothing on a rise:
    // its band reaches ≈ 208 × 0.999 / 0.9904 ≈ 210 down (low ≈ 19,790). s loses 1.0096 per unit of
    // a rise (high ≈ 20,206) and nothing on a fall.
    const account = (id: string, size: string) => btcPerpAccount(id, size, "400");
    await store.putAccounts([account("l", "1"), account("s", "-1")]);
    const timestamp = new Date(T0).toISOString();
    await runTick(
      [
        { eventId: "BTC@0", asset: "BTC", index: "20000", timestamp, source: "t" },
        { eventId: "USDC@0", asset: "USDC", index: "1", timestamp, source: "t" },
      ],
      { store, now: () => T0 },
    );
    const readAt = async (price: string) => (await store.triggeredAccountIds("BTC", price, price)).sort();
    expect(await readAt("19850")).toEqual([]);
    expect(await readAt("19700")).toEqual(["l"]);
    expect(await readAt("10000")).toEqual(["l"]);
    expect(await readAt("20150")).toEqual([]);
    expect(await readAt("20300")).toEqual(["s"]);
    expect(await readAt("30000")).toEqual(["s"]);
  });
  it("rewrites a stored band that the price has left even when the new band contains it", async () => {
    const { store, drop } = await freshStore();
    drops.push(drop);
    // 1 BTC long at 20,000 on 400 USDC: its band is ≈ [19,790, 50,000] (the test above; its
    // notional reaches the next bracket at 50,000).
    await store.putAccounts([btcPerpAccount("l", "1", "400")]);
    const tickAt = (minute: number, btc: string) => {
      const timestamp = new Date(T0 + minute * 60_000).toISOString();
      return runTick(
        [
          { eventId: `BTC@${minute}`, asset: "BTC", index: btc, timestamp, source: "t" },
          { eventId: `USDC@${minute}`, asset: "USDC", index: "1", timestamp, source: "t" },
        ],
        { store, now: () => T0 + minute * 60_000 },
      );
    };
    await tickAt(0, "20000");
    // A narrower band inside it that 20,000 has left (written by an evaluation at lower prices).
    await store.putBands([{ accountId: "l", asset: "BTC", low: "19800", high: "19900" }]);
    expect((await tickAt(1, "20001")).triggered).toBe(1);
    const [btc] = (await store.getBands([{ accountId: "l", assets: ["BTC"] }])).get("l") ?? [];
    expect(Number(btc?.low)).toBeLessThan(19_800);
    expect(Number(btc?.high)).toBeGreaterThan(20_002);
    expect((await tickAt(2, "20002")).triggered).toBe(0);
  });
});

describe("unbanded accounts", () => {
  const account = (id: string) => btcPerpAccount(id, "1", "1000");
  const banded = (id: string) =>
    ["BTC", "USDC"].map((asset) => ({ accountId: id, asset, low: "1", high: "1000000" }));

  it.each([
    ["from the index (few unbanded in the book)", 20],
    ["item by item (a fresh import: more than the index read is worth)", 700],
  ])("are found %s", async (_, size) => {
    const { store, drop } = await freshStore();
    drops.push(drop);
    const book = Array.from({ length: size }, (_, i) => account(`u-${i}`));
    await store.putAccounts(book);
    const page = book.slice(0, 10);
    // Half the page gets bands on both assets, one more account on one asset only.
    await store.putBands(page.slice(0, 5).flatMap((a) => banded(a.id)));
    await store.putBands([{ accountId: "u-5", asset: "BTC", low: "1", high: "1000000" }]);
    const unbanded = await store.unbandedAccountIds(page);
    expect([...unbanded].sort()).toEqual(["u-5", "u-6", "u-7", "u-8", "u-9"]);
  });
});

describe("the sweep", () => {
  it("pages through every account, recomputes it and rewrites its bands, then expires due calls and reports stale prices", async () => {
    const { store, drop } = await freshStore();
    drops.push(drop);
    const account = (id: string, usdc: string) => btcPerpAccount(id, "1", usdc);
    // a-3 is in a margin call at 19,000 (equity 100 < IM 152): the sweep must find it without a tick.
    await store.putAccounts([
      account("a-1", "20000"),
      account("a-2", "5000"),
      account("a-3", "1100"),
      account("a-4", "9000"),
      account("a-5", "700"),
    ]);
    const at = (minute: number) => T0 + minute * 60_000;
    const prices = (minute: number, btc: string) =>
      ingestPriceEvents(
        [
          {
            eventId: `BTC@${minute}`,
            asset: "BTC",
            index: btc,
            timestamp: new Date(at(minute)).toISOString(),
            source: "t",
          },
          {
            eventId: `USDC@${minute}`,
            asset: "USDC",
            index: "1",
            timestamp: new Date(at(minute)).toISOString(),
            source: "t",
          },
        ],
        { store, now: () => at(minute) },
      );
    await prices(0, "19000");
    const swept = await sweepAccounts({ store, now: () => at(0) }, { pageSize: 2 });
    expect(swept).toMatchObject({ accounts: 5, evaluated: 5, staleAssets: [] });
    const states = await store.getRiskStates(["a-3", "a-5"]);
    expect(states.get("a-3")?.status).toBe("MARGIN_CALL");
    expect(states.get("a-5")?.status).toBe("LIQUIDATION");
    // Bands were written: an unchanged market triggers nobody, a small move only the tight ones.
    const tick = await runTick(
      [
        {
          eventId: "BTC@1",
          asset: "BTC",
          index: "19001",
          timestamp: new Date(at(1)).toISOString(),
          source: "t",
        },
      ],
      { store, now: () => at(1) },
    );
    expect(tick.triggered).toBeLessThan(5);
    // A day later nothing has moved: the calls' deadlines have passed and every price is stale.
    const later = await sweepAccounts({ store, now: () => at(24 * 60 + 1) }, { pageSize: 2 });
    expect(later.expired).toBe(2);
    expect(later.staleAssets).toEqual(["BTC", "USDC"]);
  });

  it("the sweep's book read gives every account once, with exactly its own state, whatever its id and page size", async () => {
    // Ids whose UTF-16 and UTF-8 orders differ (U+E000 and an astral character), ids that are
    // prefixes of others, and characters below "#": the merge of the account index and the
    // states must follow DynamoDB's byte order or a state is lost (and a held call never cures).
    const tricky = [
      "a",
      "a!",
      "a b",
      "a#",
      "ab",
      "é",
      "日本",
      "\uE000x",
      "\u{1D518}",
      "\u{1D518}a",
      "Z",
      "0",
    ];
    const ids = [
      ...tricky,
      ...Array.from({ length: 40 }, (_, i) => [`\uE000${i}`, `\u{1D518}${i}`]).flat(),
      ...Array.from({ length: 100 }, (_, i) => `acc-${i}`),
    ];
    const { store, drop } = await freshStore();
    drops.push(drop);
    await store.putAccounts(
      ids.map((id) => ({
        id,
        venue: "v",
        marginMode: "standard",
        collateral: { USDC: "100" },
        positions: [],
      })),
    );
    const withState = ids.filter((_, i) => i % 3 !== 1);
    for (const id of withState)
      await store.writeState({
        state: {
          accountId: id,
          venue: "v",
          status: "WARNING",
          episode: null,
          equity: id.length.toString(),
          initialMargin: "1",
          maintenanceMargin: "1",
          callAmount: "0",
          paramsVersion: "p",
          snapshotId: "s",
          evaluatedAtMs: 0,
          version: 1,
        },
        previous: null,
        notifications: [],
      });
    for (const pageSize of [1, 2, 7, 1_000]) {
      const seen: string[] = [];
      const states = new Map<string, string>();
      for await (const page of store.scanBook(pageSize)) {
        seen.push(...page.accounts.map((a) => a.id));
        for (const [id, state] of page.states) {
          expect(
            page.accounts.some((a) => a.id === id),
            `${id}'s state comes with its page`,
          ).toBe(true);
          states.set(id, state.accountId);
        }
      }
      expect(seen.sort()).toEqual([...ids].sort());
      expect([...states.keys()].sort()).toEqual([...withState].sort());
      expect([...states].every(([id, of]) => id === of)).toBe(true);
    }
    // Segments (the sweep reads them in parallel) cover the book once between them.
    const segmented: string[] = [];
    for (let index = 0; index < 3; index++)
      for await (const page of store.scanBook(50, { index, count: 3 }))
        segmented.push(...page.accounts.map((a) => a.id));
    expect(segmented.sort()).toEqual([...ids].sort());
  });

  it("reads account documents stored as JSON strings, and those an earlier version stored as maps", async () => {
    const { store, documents, tableName, drop } = await freshStore();
    drops.push(drop);
    const current = btcPerpAccount("stored-now", "1.5", "20000");
    const earlier = btcPerpAccount("stored-as-map", "-0.25", "3000.5");
    await store.putAccounts([current]);
    await documents.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          ...keys.account(earlier.id),
          ...keys.accountIndex(earlier.id),
          type: "account",
          account: earlier,
          version: 1,
        },
      }),
    );
    const stored = await documents.send(
      new GetCommand({ TableName: tableName, Key: keys.account(current.id) }),
    );
    expect(typeof stored.Item?.account).toBe("string");
    const read = await store.getAccounts([current.id, earlier.id]);
    expect(read.get(current.id)?.account).toEqual(current);
    expect(read.get(earlier.id)?.account).toEqual(earlier);
    const swept: Account[] = [];
    for await (const page of store.scanBook(10)) swept.push(...page.accounts);
    expect(swept.sort((a, b) => a.id.localeCompare(b.id))).toEqual([earlier, current]);
  });
});

/**
 * The role ports' contract, run on every store: the in-memory one (unit project) and the DynamoDB
 * one on DynamoDB Local (integration project). A behaviour the engine relies on belongs here, so
 * the fake cannot drift from the real store.
 */
import type { Account } from "@backing/contracts";
import {
  type DeliveryRecord,
  deliveryKey,
  type NotificationRecord,
  type PriceUpdateWrite,
  type StateWrite,
  type Store,
  type StoredPrice,
  type StoredRiskState,
  type SweepTotals,
  VersionConflictError,
} from "@backing/engine";
import { describe, expect, it } from "vitest";

const T0 = Date.parse("2026-03-01T00:00:00Z");

const account = (id: string, venue = "venue-a"): Account => ({
  id,
  venue,
  marginMode: "standard",
  collateral: { USDC: "1000" },
  positions: [{ instrument: "BTC-PERP", type: "perp", underlying: "BTC", size: "1", entryPrice: "20000" }],
});

const riskState = (
  accountId: string,
  version: number,
  overrides: Partial<StoredRiskState> = {},
): StoredRiskState => ({
  accountId,
  venue: "venue-a",
  status: "MARGIN_CALL",
  episode: null,
  equity: "50",
  initialMargin: "80",
  maintenanceMargin: "40",
  callAmount: "30",
  paramsVersion: "default",
  snapshotId: "snap_1",
  evaluatedAtMs: T0,
  version,
  ...overrides,
});

const notification = (
  id: string,
  venue: string,
  createdAtMs: number,
  accountId: string | null = "a-1",
): NotificationRecord => ({
  id,
  type: "margin.call",
  venue,
  accountId,
  episodeId: null,
  createdAtMs,
  payload: {
    type: "margin.call",
    timestamp: new Date(createdAtMs).toISOString(),
    data: {
      venue,
      account: accountId ?? "",
      status: "MARGIN_CALL",
      previousStatus: "HEALTHY",
      equity: "50",
      initialMargin: "80",
      maintenanceMargin: "40",
      callAmount: "30",
      deadline: null,
      episodeId: null,
      paramsVersion: "default",
      priceSnapshot: { id: "snap_1", prices: {} },
    },
  },
});

const price = (eventId: string, index: string, timestampMs = T0): StoredPrice => ({
  asset: "BTC",
  index,
  mark: index,
  timestampMs,
  sequence: null,
  source: "test",
  eventId,
});

const delivery = (notificationId: string, overrides: Partial<DeliveryRecord> = {}): DeliveryRecord => ({
  notificationId,
  endpointId: "ep_1",
  venue: "venue-a",
  accountId: "a-1",
  status: "pending",
  attempts: [],
  roundStart: 0,
  nextAttemptAtMs: T0,
  createdAtMs: T0,
  deliveredAtMs: null,
  version: 1,
  ...overrides,
});

const all = async <T>(pages: AsyncIterable<T[]>) => {
  const items: T[] = [];
  for await (const page of pages) items.push(...page);
  return items;
};

export function storeContract(name: string, open: () => Promise<Store>) {
  describe(`${name}: accounts`, () => {
    it("stores accounts at version 1, reads them back by id, and deletes an account with its state and exposure", async () => {
      const store = await open();
      await store.putAccounts([account("a-1"), account("a-2")]);
      const read = await store.getAccounts(["a-1", "a-2", "missing"]);
      expect([...read.keys()].sort()).toEqual(["a-1", "a-2"]);
      expect(read.get("a-1")).toEqual({ account: account("a-1"), version: 1 });
      await store.writeState({ state: riskState("a-1", 1), previous: null, notifications: [] });
      await store.deleteAccount(account("a-1"));
      expect([...(await store.getAccounts(["a-1", "a-2"])).keys()]).toEqual(["a-2"]);
      expect((await store.getRiskStates(["a-1"])).size).toBe(0);
      expect((await store.exposedAccountIds("BTC")).sort()).toEqual(["a-2"]);
    });

    it("reads the whole book in pages no larger than asked, each account once, with its own state; segments split it", async () => {
      const store = await open();
      const ids = Array.from({ length: 23 }, (_, i) => `acct-${String(i).padStart(2, "0")}`);
      await store.putAccounts(ids.map((id) => account(id)));
      await store.writeState({ state: riskState("acct-07", 1), previous: null, notifications: [] });
      expect((await all(store.scanAccounts(5))).map((a) => a.id).sort()).toEqual(ids);
      const pages = [];
      for await (const page of store.scanBook(4)) pages.push(page);
      expect(pages.every((p) => p.accounts.length <= 4)).toBe(true);
      expect(pages.flatMap((p) => p.accounts.map((a) => a.id)).sort()).toEqual(ids);
      expect(pages.flatMap((p) => [...p.states.keys()])).toEqual(["acct-07"]);
      const segmented: string[] = [];
      for (const index of [0, 1, 2])
        for await (const page of store.scanBook(4, { index, count: 3 }))
          segmented.push(...page.accounts.map((a) => a.id));
      expect(segmented.sort()).toEqual(ids);
      // Accounts alone by segment: the same shares as the book's, so a segment's partial of one
      // report lines up with the same segment of the next.
      for (const index of [0, 1, 2]) {
        const accountsOnly = (await all(store.scanAccounts(4, { index, count: 3 }))).map((a) => a.id);
        const withStates: string[] = [];
        for await (const page of store.scanBook(4, { index, count: 3 }))
          withStates.push(...page.accounts.map((a) => a.id));
        expect(accountsOnly.sort()).toEqual(withStates.sort());
      }
    });
  });

  describe(`${name}: trigger index`, () => {
    it("starts every exposure with no band: such an account is triggered by any price", async () => {
      const store = await open();
      await store.putAccounts([account("a-1")]);
      expect(await store.exposedAccountIds("USDC")).toEqual(["a-1"]);
      expect(await store.triggeredAccountIds("BTC", "20000", "20000")).toEqual(["a-1"]);
      expect(await store.unbandedAccountIds([account("a-1")])).toEqual(new Set(["a-1"]));
      expect(await store.allUnbandedAccountIds(["BTC", "USDC"], 10)).toEqual(new Set(["a-1"]));
      // Two no-band entries (BTC and USDC) are more than a limit of one.
      expect(await store.allUnbandedAccountIds(["BTC", "USDC"], 1)).toBeNull();
    });

    it("triggers a band only when a price leaves it: low edge above the lowest price, or high edge below the highest", async () => {
      const store = await open();
      await store.putAccounts([account("a-1"), account("a-2")]);
      await store.putBands([
        { accountId: "a-1", asset: "BTC", low: "19000", high: "21000" },
        // No edge a price can cross: never triggered.
        { accountId: "a-2", asset: "BTC", low: "0", high: "Infinity" },
      ]);
      expect(await store.triggeredAccountIds("BTC", "19000", "21000")).toEqual([]);
      expect(await store.triggeredAccountIds("BTC", "18999.99", "20000")).toEqual(["a-1"]);
      expect(await store.triggeredAccountIds("BTC", "20000", "21000.01")).toEqual(["a-1"]);
      expect(await store.unbandedAccountIds([account("a-1"), account("a-2")])).toEqual(
        new Set(["a-1", "a-2"]),
      );
      await store.putBands([
        { accountId: "a-1", asset: "USDC", low: "0.5", high: "1.5" },
        { accountId: "a-2", asset: "USDC", low: "0.5", high: "1.5" },
      ]);
      expect(await store.unbandedAccountIds([account("a-1"), account("a-2")])).toEqual(new Set());
    });

    it("rewrites an account's exposure as 'no band', except the assets the caller says to keep", async () => {
      const store = await open();
      await store.putAccounts([account("a-1")]);
      const band = { accountId: "a-1", low: "19000", high: "21000" };
      await store.putBands([
        { ...band, asset: "BTC" },
        { ...band, asset: "USDC", low: "0.5", high: "1.5" },
      ]);
      // BTC kept: its band still holds 20,000; USDC rewritten: any price triggers it.
      await store.putAccounts([account("a-1")], new Map([["a-1", ["BTC"]]]));
      expect(await store.triggeredAccountIds("BTC", "20000", "20000")).toEqual([]);
      expect(await store.triggeredAccountIds("USDC", "1", "1")).toEqual(["a-1"]);
    });

    it("reads bands back as indexed: edges rounded toward the inside at 20 decimals", async () => {
      const store = await open();
      await store.putAccounts([account("a-1")]);
      await store.putBands([
        {
          accountId: "a-1",
          asset: "BTC",
          low: "19000.000000000000000000001",
          high: "21000.999999999999999999999",
        },
      ]);
      const bands = await store.getBands([{ accountId: "a-1", assets: ["BTC", "ETH"] }]);
      expect(bands.get("a-1")).toEqual([
        {
          accountId: "a-1",
          asset: "BTC",
          low: "19000.00000000000000000001",
          high: "21000.99999999999999999999",
        },
      ]);
      await store.dropExposure("a-1", ["BTC"]);
      expect(await store.exposedAccountIds("BTC")).toEqual([]);
      expect(await store.exposedAccountIds("USDC")).toEqual(["a-1"]);
    });
  });

  describe(`${name}: risk states and the outbox`, () => {
    it("writes a state with its notifications only against the version read", async () => {
      const store = await open();
      const call = notification("ntf_1", "venue-a", T0);
      await store.writeState({ state: riskState("a-1", 1), previous: null, notifications: [call] });
      expect(await store.getNotification("ntf_1")).toEqual(call);
      // A second writer that read no state loses.
      await expect(
        store.writeState({ state: riskState("a-1", 1), previous: null, notifications: [] }),
      ).rejects.toBeInstanceOf(VersionConflictError);
      const stored = (await store.getRiskStates(["a-1"])).get("a-1") as StoredRiskState;
      await store.writeState({
        state: riskState("a-1", 2, { status: "HEALTHY" }),
        previous: stored,
        notifications: [],
      });
      expect((await store.getRiskStates(["a-1"])).get("a-1")).toMatchObject({
        status: "HEALTHY",
        version: 2,
      });
    });

    it("writes many states each on its own: those whose version moved come back, the rest are written with their notifications", async () => {
      const store = await open();
      await store.writeState({ state: riskState("a-2", 1), previous: null, notifications: [] });
      const writes: StateWrite[] = [
        {
          state: riskState("a-1", 1),
          previous: null,
          notifications: [notification("ntf_a1", "venue-a", T0)],
        },
        // Read as absent, but a-2 has a state now.
        {
          state: riskState("a-2", 1),
          previous: null,
          notifications: [notification("ntf_a2", "venue-a", T0)],
        },
      ];
      expect(await store.writeStates(writes)).toEqual(new Set(["a-2"]));
      expect((await store.getRiskStates(["a-1"])).get("a-1")?.version).toBe(1);
      expect(await store.getNotification("ntf_a1")).not.toBeNull();
      expect(await store.getNotification("ntf_a2")).toBeNull();
    });

    it("finds the open episodes whose deadline has come, and not the expired-notified ones", async () => {
      const store = await open();
      const episode = (id: string, deadlineMs: number, expiredNotified = false) => ({
        id,
        openedAtMs: T0,
        deadlineMs,
        expiredNotified,
        liquidationNotified: false,
      });
      await store.writeStates([
        {
          state: riskState("due", 1, { episode: episode("e1", T0 + 1_000) }),
          previous: null,
          notifications: [],
        },
        {
          state: riskState("later", 1, { episode: episode("e2", T0 + 5_000) }),
          previous: null,
          notifications: [],
        },
        {
          state: riskState("done", 1, { episode: episode("e3", T0, true) }),
          previous: null,
          notifications: [],
        },
      ]);
      expect(await store.dueEpisodes(T0 + 1_000)).toEqual(["due"]);
    });

    it("keeps report notifications once per id, and pages a venue's notifications newest first", async () => {
      const store = await open();
      const list = [1, 2, 3].map((i) => notification(`ntf_${i}`, "venue-a", T0 + i * 1_000, null));
      await store.putNotifications([...list, notification("ntf_b", "venue-b", T0, null)]);
      await store.putNotifications([{ ...(list[0] as NotificationRecord), type: "report.exposure.ready" }]);
      expect((await store.getNotification("ntf_1"))?.type).toBe("margin.call");
      const first = await store.venueNotifications("venue-a", { limit: 2 });
      expect(first.notifications.map((n) => n.id)).toEqual(["ntf_3", "ntf_2"]);
      expect(first.next).not.toBeNull();
      const second = await store.venueNotifications("venue-a", { limit: 2, before: first.next as string });
      expect(second.notifications.map((n) => n.id)).toEqual(["ntf_1"]);
      expect(second.next).toBeNull();
      expect((await store.listNotifications()).map((n) => n.id)).toEqual([
        "ntf_b",
        "ntf_1",
        "ntf_2",
        "ntf_3",
      ]);
    });
  });

  describe(`${name}: prices`, () => {
    it("applies a price once per event id, only against the record it was decided on", async () => {
      const store = await open();
      const empty = { latest: null, held: null };
      const first: PriceUpdateWrite = { update: price("e1", "20000"), action: "accept", previous: empty };
      expect(await store.applyPriceUpdates([first])).toEqual(["applied"]);
      expect(await store.applyPriceUpdates([first])).toEqual(["duplicate"]);
      // Decided against the empty record, which has moved on.
      expect(await store.applyPriceUpdates([{ ...first, update: price("e2", "20100") }])).toEqual([
        "conflict",
      ]);
      const record = (await store.getPrices()).get("BTC");
      expect(record).toEqual({ latest: price("e1", "20000"), held: null });
      const jump: PriceUpdateWrite = {
        update: price("e3", "30000", T0 + 1),
        action: "hold",
        previous: record as never,
      };
      expect(await store.applyPriceUpdates([jump])).toEqual(["applied"]);
      expect((await store.getPrices()).get("BTC")).toEqual({
        latest: price("e1", "20000"),
        held: price("e3", "30000", T0 + 1),
      });
    });
  });

  describe(`${name}: params, reports, endpoints and API keys`, () => {
    it("keeps the current params and every version, the latest report of each kind, endpoints per venue and keys by hash", async () => {
      const store = await open();
      expect(await store.getParams()).toBeNull();
      const params = { version: "v1" } as never;
      await store.putParams(params);
      await store.putParams({ version: "v2" } as never);
      expect(await store.getParams()).toEqual({ version: "v2" });
      expect(await store.getParamsVersion("v1")).toEqual(params);
      const report = (id: string, createdAtMs: number) => ({
        kind: "exposure" as const,
        id,
        asOf: new Date(createdAtMs).toISOString(),
        createdAtMs,
        location: `exposure/${id}`,
        summary: {},
      });
      await store.putReportSummary(report("r2", T0 + 2));
      await store.putReportSummary(report("r1", T0 + 1));
      expect((await store.latestReportSummary("exposure"))?.id).toBe("r2");
      expect(await store.latestReportSummary("stress")).toBeNull();
      const endpoint = (id: string, venue: string) => ({
        id,
        venue,
        url: "https://example.test/hook",
        types: ["margin.call"],
        secrets: [{ secret: "whsec_x", expiresAtMs: null }],
        enabled: true,
        createdAtMs: T0,
      });
      await store.putEndpoint(endpoint("ep_a", "venue-a"));
      await store.putEndpoint(endpoint("ep_b", "venue-b"));
      expect((await store.listEndpoints("venue-a")).map((e) => e.id)).toEqual(["ep_a"]);
      await store.deleteEndpoint("venue-b", "ep_a"); // not venue-b's: stays
      await store.deleteEndpoint("venue-b", "ep_b");
      expect((await store.listEndpoints()).map((e) => e.id)).toEqual(["ep_a"]);
      await store.putApiKey({ hash: "h1", venue: "venue-a", label: "k", createdAtMs: T0 });
      expect(await store.getApiKey("h1")).toMatchObject({ venue: "venue-a" });
      expect(await store.getApiKey("h2")).toBeNull();
    });
  });

  describe(`${name}: funding`, () => {
    it("applies a funding event once, only against the record it was decided on", async () => {
      const store = await open();
      const record = (eventId: string, cumulative: string, fundingTimeMs: number) => ({
        venue: "v",
        asset: "BTC",
        cumulative,
        fundingTimeMs,
        eventId,
      });
      expect(await store.getFunding()).toEqual([]);
      expect(await store.applyFunding(record("f1", "2", T0), null)).toBe("applied");
      expect(await store.applyFunding(record("f1", "2", T0), null)).toBe("duplicate");
      // Decided against no record, but f1 is there now: a conflict, nothing written.
      expect(await store.applyFunding(record("f2", "9", T0 + 1), null)).toBe("conflict");
      expect(await store.applyFunding(record("f2", "1.05", T0 + 1), record("f1", "2", T0))).toBe("applied");
      expect(await store.getFunding()).toEqual([record("f2", "1.05", T0 + 1)]);
    });
  });

  describe(`${name}: depth snapshots`, () => {
    it("keeps the latest snapshot per asset and refuses an older one, naming the stored time", async () => {
      const store = await open();
      const snapshot = (asset: string, timestamp: string, size: string) => ({
        asset,
        timestamp,
        bids: [["99", size]] as [string, string][],
        asks: [["101", "1"]] as [string, string][],
      });
      expect(await store.getDepth()).toEqual([]);
      expect(await store.putDepth(snapshot("BTC", "2026-01-15T00:00:10Z", "1"))).toEqual({ stored: true });
      expect(await store.putDepth(snapshot("ETH", "2026-01-15T00:00:05Z", "3"))).toEqual({ stored: true });
      expect(await store.putDepth(snapshot("BTC", "2026-01-15T00:00:09Z", "2"))).toEqual({
        stored: false,
        latest: "2026-01-15T00:00:10Z",
      });
      // The same time again replaces it (a venue correcting its snapshot).
      expect(await store.putDepth(snapshot("BTC", "2026-01-15T00:00:10Z", "4"))).toEqual({ stored: true });
      expect(await store.getDepth()).toEqual([
        snapshot("BTC", "2026-01-15T00:00:10Z", "4"),
        snapshot("ETH", "2026-01-15T00:00:05Z", "3"),
      ]);
    });
  });

  describe(`${name}: unwatched accounts`, () => {
    it("keeps one mark per account, overwritten as given, listed by id, deleted by id", async () => {
      const store = await open();
      expect(await store.listUnwatched()).toEqual([]);
      const mark = (accountId: string, notified: boolean) => ({
        accountId,
        venue: "v",
        reasons: [`positions[0].expiry: expired (${accountId})`],
        sinceMs: T0,
        notified,
      });
      await store.putUnwatched(mark("u-2", false));
      await store.putUnwatched(mark("u-1", false));
      await store.putUnwatched(mark("u-2", true));
      expect(await store.listUnwatched()).toEqual([mark("u-1", false), mark("u-2", true)]);
      await store.deleteUnwatched(["u-1", "never-marked"]);
      expect(await store.listUnwatched()).toEqual([mark("u-2", true)]);
    });
  });

  describe(`${name}: deliveries and lanes`, () => {
    it("creates a delivery once, updates it only at the version read, and indexes it as due or failed", async () => {
      const store = await open();
      const [created] = await store.ensureDeliveries([delivery("n1")]);
      expect(created?.created).toBe(true);
      const [again] = await store.ensureDeliveries([delivery("n1", { status: "queued" })]);
      expect(again).toEqual({ record: delivery("n1"), created: false });
      expect(await store.updateDelivery(delivery("n1", { version: 2, nextAttemptAtMs: T0 + 5_000 }), 1)).toBe(
        true,
      );
      expect(await store.updateDelivery(delivery("n1", { version: 2 }), 1)).toBe(false);
      expect(await store.dueDeliveries(T0 + 4_999, 10)).toEqual([]);
      expect((await store.dueDeliveries(T0 + 5_000, 10)).map(deliveryKey)).toEqual(["n1/ep_1"]);
      await store.updateDelivery(delivery("n1", { version: 3, status: "failed", nextAttemptAtMs: null }), 2);
      expect(await store.dueDeliveries(T0 + 5_000, 10)).toEqual([]);
      expect((await store.failedDeliveries()).map(deliveryKey)).toEqual(["n1/ep_1"]);
      expect((await store.getDeliveries("n1")).map((d) => d.status)).toEqual(["failed"]);
    });

    it("keeps a lane in join order, joins idempotently, and lets anyone leave", async () => {
      const store = await open();
      expect(await store.joinLane("ep_1", "a-1", { notificationId: "n1" }, T0 + 15_000)).toEqual(["n1"]);
      expect(await store.joinLane("ep_1", "a-1", { notificationId: "n2" }, T0 + 15_000)).toEqual([
        "n1",
        "n2",
      ]);
      expect(await store.joinLane("ep_1", "a-1", { notificationId: "n1" }, T0 + 15_000)).toEqual([
        "n1",
        "n2",
      ]);
      expect(await store.leaveLane("ep_1", "a-1", "n2", T0 + 15_000)).toEqual(["n1"]);
      expect(await store.leaveLane("ep_1", "a-1", "n1", T0 + 15_000)).toEqual([]);
    });

    it("keeps a lane in the account's order: a notification joins before the first of a higher sequence", async () => {
      const store = await open();
      const join = (id: string, sequence?: number) =>
        store.joinLane(
          "ep_1",
          "a-1",
          sequence === undefined ? { notificationId: id } : { notificationId: id, sequence },
          T0,
        );
      expect(await join("n5", 5)).toEqual(["n5"]);
      expect(await join("n7", 7)).toEqual(["n5", "n7"]);
      expect(await join("n6", 6)).toEqual(["n5", "n6", "n7"]);
      expect(await join("n3", 3)).toEqual(["n3", "n5", "n6", "n7"]);
      expect(await join("x")).toEqual(["n3", "n5", "n6", "n7", "x"]); // no sequence: at the end
      expect(await join("n4", 4)).toEqual(["n3", "n4", "n5", "n6", "n7", "x"]);
      expect(await join("n6", 6)).toEqual(["n3", "n4", "n5", "n6", "n7", "x"]);
      // A head that another one moves in front of gives its place, and the lease starts again.
      expect(await store.expiredLanes(T0, 10)).toEqual([
        { endpointId: "ep_1", accountId: "a-1", head: "n3", leaseUntilMs: T0 },
      ]);
      expect(await store.leaveLane("ep_1", "a-1", "n3", T0 + 1)).toEqual(["n4", "n5", "n6", "n7", "x"]);
      expect(await store.joinLane("ep_1", "a-1", { notificationId: "n2", sequence: 2 }, T0 + 2)).toEqual([
        "n2",
        "n4",
        "n5",
        "n6",
        "n7",
        "x",
      ]);
      expect(await store.expiredLanes(T0 + 10, 10)).toEqual([
        { endpointId: "ep_1", accountId: "a-1", head: "n2", leaseUntilMs: T0 + 2 },
      ]);
    });

    it("leases a lane's head: a new head's lease starts, a queued notification leaves it alone, an empty lane is gone", async () => {
      const store = await open();
      const lease = (until: number, accountId = "a-1", head = "n1") => ({
        endpointId: "ep_1",
        accountId,
        head,
        leaseUntilMs: until,
      });
      await store.joinLane("ep_1", "a-1", { notificationId: "n1" }, T0 + 15_000);
      await store.joinLane("ep_1", "a-1", { notificationId: "n2" }, T0 + 99_000); // queued: the head's lease holds
      await store.joinLane("ep_1", "a-2", { notificationId: "n3" }, T0 + 20_000);
      expect(await store.expiredLanes(T0 + 14_999, 10)).toEqual([]);
      expect(await store.expiredLanes(T0 + 15_000, 10)).toEqual([lease(T0 + 15_000)]);
      expect(await store.expiredLanes(T0 + 20_000, 10)).toEqual([
        lease(T0 + 15_000),
        lease(T0 + 20_000, "a-2", "n3"),
      ]);
      expect(await store.expiredLanes(T0 + 20_000, 1)).toEqual([lease(T0 + 15_000)]);
      // A renewal holds only for the head it names.
      expect(await store.renewLane(lease(T0 + 15_000, "a-1", "n2"), T0 + 60_000)).toBe(false);
      expect(await store.renewLane(lease(T0 + 15_000), T0 + 60_000)).toBe(true);
      expect(await store.expiredLanes(T0 + 59_999, 10)).toEqual([lease(T0 + 20_000, "a-2", "n3")]);
      // The next head takes the lease given when the head leaves.
      await store.leaveLane("ep_1", "a-1", "n1", T0 + 30_000);
      expect(await store.expiredLanes(T0 + 30_000, 10)).toEqual([
        lease(T0 + 20_000, "a-2", "n3"),
        lease(T0 + 30_000, "a-1", "n2"),
      ]);
      await store.leaveLane("ep_1", "a-1", "n2", T0 + 40_000);
      await store.leaveLane("ep_1", "a-2", "n3", T0 + 40_000);
      expect(await store.expiredLanes(T0 + 1_000_000, 10)).toEqual([]);
      // A lane opened with a failed first attempt is leased until its next attempt and a margin.
      await store.openLanes([delivery("n4", { accountId: "a-4", nextAttemptAtMs: T0 + 5_000 })], 15_000);
      expect(await store.expiredLanes(T0 + 1_000_000, 10)).toEqual([lease(T0 + 20_000, "a-4", "n4")]);
    });

    it("calls a delivery busy when its lane holds a notification or it exists; opens a lane only where it is free", async () => {
      const store = await open();
      await store.joinLane("ep_1", "a-1", { notificationId: "n0" }, T0 + 15_000);
      await store.ensureDeliveries([delivery("n2", { accountId: "a-2" })]);
      const candidates = [
        delivery("n1"),
        delivery("n2", { accountId: "a-2" }),
        delivery("n3", { accountId: "a-3" }),
        delivery("n4", { accountId: null }),
      ];
      expect(await store.busyDeliveries(candidates.map((record) => ({ record, after: null })))).toEqual(
        new Set(["n1/ep_1", "n2/ep_1"]),
      );
      expect(await store.openLanes([delivery("n1"), delivery("n3", { accountId: "a-3" })], 15_000)).toEqual(
        new Set(["n1/ep_1"]),
      );
      expect(await store.joinLane("ep_1", "a-3", { notificationId: "n5" }, T0 + 15_000)).toEqual([
        "n3",
        "n5",
      ]);
      expect((await store.getDeliveries("n3")).map((d) => d.accountId)).toEqual(["a-3"]);
      await store.recordDeliveries([delivery("n6", { status: "delivered", nextAttemptAtMs: null })]);
      expect(await store.busyDeliveries([{ record: delivery("n6"), after: null }])).toEqual(
        new Set(["n6/ep_1"]),
      );
    });

    it("calls a delivery busy while the one it follows to the same endpoint is missing or unfinished", async () => {
      const store = await open();
      const follows = (notificationId: string, after: string, accountId: string) => ({
        record: delivery(notificationId, { accountId }),
        after,
      });
      await store.ensureDeliveries([delivery("p2", { accountId: "a-2" })]); // pending
      await store.recordDeliveries([
        delivery("p3", { accountId: "a-3", status: "delivered", nextAttemptAtMs: null }),
        delivery("p4", { accountId: "a-4", status: "failed", nextAttemptAtMs: null }),
        delivery("p5", { accountId: "a-5", endpointId: "ep_2", status: "delivered", nextAttemptAtMs: null }),
      ]);
      const busy = await store.busyDeliveries([
        follows("n1", "p1", "a-1"), // never written
        follows("n2", "p2", "a-2"),
        follows("n3", "p3", "a-3"),
        follows("n4", "p4", "a-4"), // parked counts as finished
        follows("n5", "p5", "a-5"), // finished to another endpoint only
      ]);
      expect(busy).toEqual(new Set(["n1/ep_1", "n2/ep_1", "n5/ep_1"]));
    });
  });

  describe(`${name}: sweep runs`, () => {
    const totals = (accounts: number): SweepTotals => ({
      accounts,
      evaluated: accounts,
      written: 1,
      notifications: { "margin.call": 1 },
      skippedStale: 0,
      invalid: [],
      conflictsRetried: 0,
      supersededByNewer: 0,
    });

    it("lends the sweep lease to one owner at a time until it is released or has expired", async () => {
      const store = await open();
      expect(await store.acquireSweepLease("a", T0, T0 + 60_000)).toBe(true);
      expect(await store.acquireSweepLease("b", T0 + 1_000, T0 + 61_000)).toBe(false);
      await store.releaseSweepLease("b"); // not b's: stays a's
      expect(await store.acquireSweepLease("b", T0 + 1_000, T0 + 61_000)).toBe(false);
      expect(await store.acquireSweepLease("b", T0 + 60_001, T0 + 120_000)).toBe(true);
      await store.releaseSweepLease("b");
      expect(await store.acquireSweepLease("c", T0 + 60_002, T0 + 120_000)).toBe(true);
    });

    it("keeps each segment's first report, and stores a run's summary once", async () => {
      const store = await open();
      await store.createSweepRun({ id: "s1", segments: 2, startedAtMs: T0, summary: null });
      expect([...(await store.reportSweepSegment("s1", 1, totals(3))).keys()]).toEqual([1]);
      const again = await store.reportSweepSegment("s1", 1, totals(99));
      expect(again.get(1)?.accounts).toBe(3);
      const both = await store.reportSweepSegment("s1", 0, totals(4));
      expect([...both.keys()].sort()).toEqual([0, 1]);
      const summary = {
        ...totals(7),
        expired: 0,
        staleAssets: [],
        markGuardedAssets: [],
        unwatched: 0,
        finishedAtMs: T0 + 5,
      };
      expect(await store.finishSweepRun("s1", summary)).toBe(true);
      expect(await store.finishSweepRun("s1", { ...summary, accounts: 8 })).toBe(false);
      expect((await store.getSweepRun("s1"))?.summary?.accounts).toBe(7);
      expect(await store.getSweepRun("s2")).toBeNull();
    });

    it("keeps the latest full sweep's start and params version", async () => {
      const store = await open();
      expect(await store.lastFullSweep()).toBeNull();
      await store.recordFullSweep({ startedAtMs: T0 + 60_000, paramsVersion: "v2" });
      await store.recordFullSweep({ startedAtMs: T0, paramsVersion: "v1" }); // an older run finishing late
      expect(await store.lastFullSweep()).toEqual({ startedAtMs: T0 + 60_000, paramsVersion: "v2" });
      await store.recordFullSweep({ startedAtMs: T0 + 120_000, paramsVersion: "v2" });
      expect((await store.lastFullSweep())?.startedAtMs).toBe(T0 + 120_000);
    });
  });

  describe(`${name}: sharded job runs`, () => {
    const run = (id: string) => ({
      id,
      kind: "stress" as const,
      reportId: `stress_${id}`,
      segments: 3,
      startedAtMs: T0,
      inputs: { asOf: "2026-01-15T00:00:00Z", prices: { BTC: { index: "60000.5" } } },
      pass: 0,
      finishedAtMs: null,
    });

    it("creates a run once and returns its pinned inputs as stored", async () => {
      const store = await open();
      expect(await store.createJobRun(run("j1"))).toBe(true);
      expect(await store.createJobRun({ ...run("j1"), segments: 9 })).toBe(false);
      expect(await store.getJobRun("j1")).toEqual(run("j1"));
      expect(await store.getJobRun("j2")).toBeNull();
    });

    it("counts each segment once per pass, and moves a run on (to a later pass, or finished) for one caller only", async () => {
      const store = await open();
      await store.createJobRun(run("j3"));
      expect(await store.reportJobSegment("j3", 0, 2)).toBe(1);
      expect(await store.reportJobSegment("j3", 0, 2)).toBe(1); // a retried segment
      expect(await store.reportJobSegment("j3", 1, 0)).toBe(1); // another pass counts apart
      expect(await store.reportJobSegment("j3", 0, 0)).toBe(2);
      expect(await store.reportJobSegment("j3", 0, 1)).toBe(3);
      expect(await store.advanceJobRun("j3", { pass: 1 })).toBe(true);
      expect(await store.advanceJobRun("j3", { pass: 1 })).toBe(false);
      expect(await store.advanceJobRun("j3", { finishedAtMs: T0 + 9 })).toBe(true);
      expect(await store.advanceJobRun("j3", { finishedAtMs: T0 + 10 })).toBe(false);
      expect(await store.advanceJobRun("j3", { pass: 2 })).toBe(false);
      expect(await store.getJobRun("j3")).toMatchObject({ pass: 1, finishedAtMs: T0 + 9 });
    });
  });
}

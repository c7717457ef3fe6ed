import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScenarioPack, StressReport } from "@backing/contracts";
import { DEFAULT_RISK_PARAMS, DEFAULT_SCENARIO_PACK, parsePortfolio, stressReport } from "@backing/core";
import { ingestPriceEvents, runStressJob } from "@backing/engine";
import { demoBook, demoDepth } from "@backing/local";
import { folderReportStore } from "@backing/reports";
import { afterAll, describe, expect, inject, it } from "vitest";
import { freshStore } from "../helpers/dynamo.ts";

const PRICES = { BTC: "21000", ETH: "1610", SOL: "35", USDT: "1", USDC: "1", stETH: "1593.9" };
const VOLATILITY = { BTC: "0.9", ETH: "1.1", SOL: "1.3" };
const NOW = Date.parse("2022-11-08T00:00:00Z");
const drops: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const drop of drops) await drop();
});

describe("scheduled stress job over the stored book (DynamoDB Local)", () => {
  it("streams the book in pages, sharded in 3 segments, and writes the same report as `backing stress`, a summary and one outbox item per venue", async () => {
    const { store, drop } = await freshStore();
    drops.push(drop);
    const book = demoBook({
      accounts: 120,
      prices: PRICES,
      futureExpiry: "2022-12-30T08:00:00Z",
      optionExpiry: "2022-11-25T08:00:00Z",
      seed: 5,
    });
    await store.putAccounts(book);
    const timestamp = new Date(NOW).toISOString();
    await ingestPriceEvents(
      Object.entries(PRICES).map(([asset, index]) => ({
        eventId: `${asset}@0`,
        asset,
        index,
        timestamp,
        source: "test",
      })),
      { store, now: () => NOW },
    );
    // The venues' books for BTC and ETH (posted as POST /v1/depth stores them); SOL keeps the model.
    const depth = demoDepth(PRICES, { BTC: "3000000", ETH: "1000000" }, timestamp);
    for (const snapshot of depth) await store.putDepth(snapshot);
    const directory = await mkdtemp(join(tmpdir(), "backing-reports-"));
    // Pages of 25 accounts in 3 segments that meet once per cascade round: the cascade must come
    // out the same as with the whole book in memory.
    const result = await runStressJob(
      { store, now: () => NOW, volatility: VOLATILITY, reports: folderReportStore(directory) },
      { pageSize: 25, segments: 3 },
    );
    expect(result).toMatchObject({ accounts: 120, notifications: 3 });

    const stored = StressReport.parse(JSON.parse(await readFile(result.location, "utf8")));
    const expected = stressReport(
      parsePortfolio(
        {
          asOf: timestamp,
          prices: Object.fromEntries(Object.entries(PRICES).map(([a, index]) => [a, { index }])),
          volatility: VOLATILITY,
          depth: Object.fromEntries(depth.map((d) => [d.asset, d])),
          accounts: book,
        },
        DEFAULT_RISK_PARAMS,
      ),
      ScenarioPack.parse(DEFAULT_SCENARIO_PACK),
      { reverse: false },
    );
    expect(stored.scenarios).toHaveLength(12);
    const byId = <T extends { id: string }>(rows: T[]) => [...rows].sort((a, b) => a.id.localeCompare(b.id));
    for (const [i, scenario] of stored.scenarios.entries()) {
      const { accounts, ...aggregates } = scenario;
      const { accounts: expectedAccounts, ...expectedAggregates } = expected.scenarios[
        i
      ] as (typeof expected.scenarios)[number];
      expect(aggregates).toEqual(expectedAggregates);
      expect(byId(accounts)).toEqual(byId(expectedAccounts));
    }
    // At least one scenario must actually cascade for the comparison to mean something.
    expect(stored.scenarios.some((s) => s.cascade.rounds > 0)).toBe(true);
    // ... and to walk the stored books while SOL keeps the model.
    expect(stored.scenarios.some((s) => s.cascade.pricing.BTC?.pricedBy === "depth")).toBe(true);
    expect(stored.scenarios.some((s) => s.cascade.pricing.SOL?.pricedBy === "model")).toBe(true);

    const ready = (await store.listNotifications()).filter((n) => n.type === "report.stress.ready");
    expect(ready.map((n) => n.venue).sort()).toEqual(["venue-a", "venue-b", "venue-c"]);
    // Re-running the same report is idempotent: no second notification.
    await runStressJob(
      { store, now: () => NOW, volatility: VOLATILITY, reports: folderReportStore(directory) },
      { pageSize: 25 },
    );
    expect((await store.listNotifications()).filter((n) => n.type === "report.stress.ready")).toHaveLength(3);
  }, 120_000);
});

describe("the stress Lambda handler", () => {
  it("wires the job from the environment and runs it (local adapters: DynamoDB Local, a report folder)", async () => {
    const { store, tableName, drop } = await freshStore();
    drops.push(drop);
    // The handler runs on the wall clock: instruments must not have expired.
    await store.putAccounts(
      demoBook({
        accounts: 30,
        prices: PRICES,
        futureExpiry: "2031-12-26T08:00:00Z",
        optionExpiry: "2031-06-27T08:00:00Z",
        seed: 9,
      }),
    );
    const timestamp = new Date().toISOString();
    await ingestPriceEvents(
      Object.entries(PRICES).map(([asset, index]) => ({
        eventId: `${asset}@h`,
        asset,
        index,
        timestamp,
        source: "test",
      })),
      { store, now: () => Date.parse(timestamp) },
    );
    const directory = await mkdtemp(join(tmpdir(), "backing-handler-"));
    Object.assign(process.env, {
      BACKING_TABLE_NAME: tableName,
      BACKING_DYNAMODB_ENDPOINT: inject("dynamoEndpoint"),
      BACKING_REPORT_DIR: directory,
      BACKING_VOLATILITY: JSON.stringify(VOLATILITY),
      BACKING_JOB_SEGMENTS: "3",
    });
    const { handler } = await import("../../functions/stress.ts");
    const result = await handler();
    // No job queue configured: the cron ran the job's 3 segments itself.
    if (!("location" in result)) throw new Error("the handler queued the job instead of running it");
    expect(result).toMatchObject({ accounts: 30, notifications: 3 });
    const report = StressReport.parse(JSON.parse(await readFile(result.location, "utf8")));
    expect(report.scenarios).toHaveLength(12);
    expect(report.scenarios[0]?.accounts).toHaveLength(30);
  }, 120_000);
});

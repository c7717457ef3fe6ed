import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Account, type DepthSnapshot, ExposureReport } from "@backing/contracts";
import {
  DEFAULT_RISK_PARAMS,
  Decimal,
  type ExposureAccountRow,
  exposureReport,
  type PreviousAccount,
  parsePortfolio,
} from "@backing/core";
import { type EngineStore, ingestPriceEvents, runExposureJob } from "@backing/engine";
import { demoBook, demoDepth } from "@backing/local";
import { exposureRendering, folderReportStore } from "@backing/reports";
import { afterAll, describe, expect, inject, it } from "vitest";
import { freshStore } from "../helpers/dynamo.ts";

const PRICES = { BTC: "21000", ETH: "1610", SOL: "35", USDT: "1", USDC: "1", stETH: "1593.9" };
// Each move within the price guard's 25% maxJump, so it is accepted at once.
const CRASH = { ...PRICES, BTC: "17500", ETH: "1250", SOL: "28", stETH: "1240" };
const VOLATILITY = { BTC: "0.9", ETH: "1.1", SOL: "1.3" };
const FIRST = Date.parse("2022-11-08T00:00:00Z");
const SECOND = Date.parse("2022-11-09T00:00:00Z");
const drops: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const drop of drops) await drop();
});

async function setPrices(store: EngineStore, prices: Record<string, string>, nowMs: number) {
  const timestamp = new Date(nowMs).toISOString();
  const events = Object.entries(prices).map(([asset, index]) => ({
    eventId: `${asset}@${nowMs}`,
    asset,
    index,
    timestamp,
    source: "test",
  }));
  await ingestPriceEvents(events, { store, now: () => nowMs });
}

function pureReport(
  book: Account[],
  prices: Record<string, string>,
  nowMs: number,
  previous: ExposureAccountRow[] | null,
  depth: DepthSnapshot[] = [],
) {
  const portfolio = parsePortfolio(
    {
      asOf: new Date(nowMs).toISOString(),
      prices: Object.fromEntries(Object.entries(prices).map(([a, index]) => [a, { index }])),
      volatility: VOLATILITY,
      depth: Object.fromEntries(depth.map((d) => [d.asset, d])),
      accounts: book,
    },
    DEFAULT_RISK_PARAMS,
  );
  const accounts = previous
    ? new Map<string, PreviousAccount>(
        previous.map((r) => [r.id, { venue: r.venue, status: r.status, equity: new Decimal(r.equity) }]),
      )
    : null;
  return exposureReport(portfolio, accounts ? { asOf: new Date(FIRST).toISOString(), accounts } : null);
}

/** Greeks are float sums whose last digits depend on the order the accounts arrive in. */
function exactPart(report: ExposureReport) {
  return {
    ...report,
    assets: Object.fromEntries(
      Object.entries(report.assets).map(([name, { options: _, ...rest }]) => [name, rest]),
    ),
  };
}

describe("scheduled exposure job over the stored book (DynamoDB Local)", () => {
  it("pages through the book, stores JSON, CSV and HTML, a summary and one outbox item per venue, then reports changes", async () => {
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
    await setPrices(store, PRICES, FIRST);
    // A BTC book posted (as POST /v1/depth stores it): its LDR and impact prices read it.
    const depth = demoDepth(PRICES, { BTC: "3000000" }, new Date(FIRST).toISOString());
    for (const snapshot of depth) await store.putDepth(snapshot);
    const directory = await mkdtemp(join(tmpdir(), "backing-exposure-"));
    const deps = (nowMs: number) => ({
      store,
      now: () => nowMs,
      volatility: VOLATILITY,
      reports: folderReportStore(directory),
      rendering: exposureRendering,
    });

    const first = await runExposureJob(deps(FIRST), { pageSize: 25 });
    expect(first).toMatchObject({ accounts: 120, invalidAccounts: 0, notifications: 3 });
    const expected = pureReport(book, PRICES, FIRST, null, depth);
    expect(first.report.assets.BTC).toMatchObject({ depthSource: "book", impact: expect.any(Array) });
    expect(first.report.assets.ETH?.depthSource).toBe("params");
    expect(exactPart(first.report)).toEqual(exactPart(expected.report));
    const stored = ExposureReport.parse(
      JSON.parse(await readFile(first.locations["exposure.json"] as string, "utf8")),
    );
    expect(stored).toEqual(first.report);
    expect(await readFile(first.locations["exposure.html"] as string, "utf8")).toContain(
      '<svg class="chart heatmap"',
    );
    expect(Object.keys(first.locations)).toEqual(
      expect.arrayContaining([
        "accounts.csv",
        "assets.csv",
        "heatmap.csv",
        "cumliq.csv",
        "concentration.csv",
      ]),
    );
    const accountsCsv = await readFile(first.locations["accounts.csv"] as string, "utf8");
    expect(accountsCsv.trim().split("\n")).toHaveLength(121);
    expect(first.report.changes).toBeNull();

    const summary = await store.latestReportSummary("exposure");
    expect(summary).toMatchObject({
      kind: "exposure",
      id: first.reportId,
      location: first.locations["exposure.json"],
    });
    const ready = (await store.listNotifications()).filter((n) => n.type === "report.exposure.ready");
    expect(ready.map((n) => n.venue).sort()).toEqual(["venue-a", "venue-b", "venue-c"]);
    // Each venue's webhook points at a report of its own accounts only: equal to the pure report
    // of those accounts, with no other venue's account anywhere in it.
    for (const notification of ready) {
      const { data } = notification.payload as unknown as {
        data: { location: string; summary: { accounts: number } };
      };
      const own = book.filter((a) => a.venue === notification.venue);
      expect(data.location).toContain(`/venues/${notification.venue}-`);
      const html = await readFile(data.location, "utf8");
      const json = ExposureReport.parse(
        JSON.parse(await readFile(data.location.replace(/exposure\.html$/, "exposure.json"), "utf8")),
      );
      expect(exactPart(json)).toEqual(exactPart(pureReport(own, PRICES, FIRST, null, depth).report));
      expect(data.summary.accounts).toBe(own.length);
      for (const other of book.filter((a) => a.venue !== notification.venue).slice(0, 20)) {
        expect(html).not.toContain(`>${other.id}<`);
        expect(JSON.stringify(json)).not.toContain(`"${other.id}"`);
      }
    }

    // A day later, after a crash: changes since the first report, computed from its accounts.csv.
    await setPrices(store, CRASH, SECOND);
    const second = await runExposureJob(deps(SECOND), { pageSize: 40 });
    const expectedChanges = pureReport(book, CRASH, SECOND, expected.accounts).report.changes;
    expect(second.report.changes).toEqual(expectedChanges);
    expect(second.report.changes?.previousAsOf).toBe(new Date(FIRST).toISOString());
    expect(second.report.changes?.newMarginCalls.count).toBeGreaterThan(0);
    expect((await store.latestReportSummary("exposure"))?.id).toBe(second.reportId);

    // Re-running the same report adds nothing to the outbox.
    await runExposureJob(deps(SECOND), { pageSize: 40 });
    expect((await store.listNotifications()).filter((n) => n.type === "report.exposure.ready")).toHaveLength(
      6,
    );
  }, 120_000);
});

describe("the exposure Lambda handler", () => {
  it("wires the job from the environment and runs it (DynamoDB Local, a report folder)", async () => {
    const { store, tableName, drop } = await freshStore();
    drops.push(drop);
    await store.putAccounts(
      demoBook({
        accounts: 30,
        prices: PRICES,
        futureExpiry: "2031-12-26T08:00:00Z",
        optionExpiry: "2031-06-27T08:00:00Z",
        seed: 9,
      }),
    );
    await setPrices(store, PRICES, Date.now());
    const directory = await mkdtemp(join(tmpdir(), "backing-handler-"));
    Object.assign(process.env, {
      BACKING_TABLE_NAME: tableName,
      BACKING_DYNAMODB_ENDPOINT: inject("dynamoEndpoint"),
      BACKING_REPORT_DIR: directory,
      BACKING_VOLATILITY: JSON.stringify(VOLATILITY),
      BACKING_JOB_SEGMENTS: "3",
    });
    const { handler } = await import("../../functions/exposure.ts");
    const result = await handler();
    // No job queue configured: the cron ran the job's 3 segments itself.
    if (!("locations" in result)) throw new Error("the handler queued the job instead of running it");
    expect(result).toMatchObject({ accounts: 30, invalidAccounts: 0, notifications: 3 });
    const report = ExposureReport.parse(
      JSON.parse(await readFile(result.locations["exposure.json"] as string, "utf8")),
    );
    expect(report.accounts).toBe(30);
  }, 120_000);
});

import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Account, ExposureReport } from "@backing/contracts";
import { ingestPriceEvents } from "@backing/engine";
import { describe, expect, inject, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { freshStore } from "../helpers/dynamo.ts";

const perp = (size: string) => ({
  instrument: "BTC-PERP",
  type: "perp",
  underlying: "BTC",
  size,
  entryPrice: "100000",
});

/** One bracket at 1% MMR: long 1 BTC on 5,455 USDC liquidates at 95,500; short 1 on 4,050.2 at 103,020. */
const document = (btc: string) => ({
  asOf: "2026-01-15T00:00:00Z",
  prices: { BTC: { index: btc }, USDC: { index: "1" } },
  params: { brackets: { BTC: [{ notionalCap: "1000000000", maxLeverage: "10", mmr: "0.01" }] } },
  accounts: [
    { id: "a-1", venue: "v", collateral: { USDC: "5455" }, positions: [perp("1")] },
    { id: "a-2", venue: "v", collateral: { USDC: "4050.2" }, positions: [perp("-1")] },
  ],
});

describe("backing report exposure", () => {
  it("prints DESIGN §3.9's JSON from a portfolio document", async () => {
    const { code, stdout, stderr } = await runCli(["report", "exposure", "-", "--json"], {
      stdin: JSON.stringify(document("100000")),
    });
    expect(code, stderr).toBe(0);
    const report = ExposureReport.parse(JSON.parse(stdout));
    const btc = report.assets.BTC;
    expect(btc).toMatchObject({
      mark: "100000",
      long: "100000",
      short: "100000",
      net: "0",
      gross: "200000",
      accounts: 2,
    });
    expect(btc?.heatmap.find((b) => b.from === "95000")?.notional).toBe("100000");
    expect(btc?.cumLiq["-0.05"]).toBe("100000");
    expect(btc?.cumLiq["0.05"]).toBe("100000");
    expect(btc?.cumLiq["0.02"]).toBe("0");
    // Default BTC depth: $470M at 1% → Depth(5%) = 2.35bn; LDR = 100,000 / 2.35bn.
    expect(btc?.ldr["-0.05"]).toBe("0.00004255");
    expect(report.accountsByStatus).toEqual({ HEALTHY: 0, WARNING: 0, MARGIN_CALL: 2, LIQUIDATION: 0 });
    expect(report.closestToLiquidation.map((r) => r.id)).toEqual(["a-2", "a-1"]);
  });

  it("writes CSV tables, then compares a later report with it through --previous", async () => {
    const directory = await mkdtemp(join(tmpdir(), "backing-exposure-"));
    const first = join(directory, "first");
    const input = join(directory, "book.json");
    await writeFile(input, JSON.stringify(document("100000")));
    const csv = await runCli(["report", "exposure", input, "--format", "csv", "--out", first]);
    expect(csv.code, csv.stderr).toBe(0);
    expect((await readdir(first)).sort()).toEqual([
      "accounts.csv",
      "adl-queue.csv",
      "assets.csv",
      "changes.csv",
      "closest.csv",
      "collateral.csv",
      "concentration.csv",
      "cumliq.csv",
      "depth.csv",
      "exposure.json",
      "heatmap.csv",
      "impact.csv",
      "options.csv",
      "summary.csv",
    ]);
    expect(await readFile(join(first, "accounts.csv"), "utf8")).toBe(
      "id,venue,status,equity,initialMargin,maintenanceMargin,callAmount\n" +
        "a-1,v,MARGIN_CALL,5455,10000,1000,4545\n" +
        "a-2,v,MARGIN_CALL,4050.2,10000,1000,5949.8\n",
    );
    expect(await readFile(join(first, "concentration.csv"), "utf8")).toContain(
      "BTC,gross,200000,0.5,1,1,1,5000,2",
    );

    // BTC at 95,000: a-1 is past its liquidation price (equity 455 < MM 950), a-2 gains 5,000.
    await writeFile(input, JSON.stringify({ ...document("95000"), asOf: "2026-01-15T01:00:00Z" }));
    const second = await runCli(["report", "exposure", input, "--json", "--previous", first]);
    expect(second.code, second.stderr).toBe(0);
    const changes = ExposureReport.parse(JSON.parse(second.stdout)).changes;
    expect(changes?.previousAsOf).toBe("2026-01-15T00:00:00Z");
    expect(changes?.newMarginCalls.count).toBe(0);
    expect(changes?.largestEquityChanges.map((c) => [c.id, c.change])).toEqual([
      ["a-1", "-5000"],
      ["a-2", "5000"],
    ]);
  });

  it("prints the HTML page, or writes it and prints its path", async () => {
    const page = await runCli(["report", "exposure", "-", "--format", "html"], {
      stdin: JSON.stringify(document("100000")),
    });
    expect(page.code).toBe(0);
    expect(page.stdout).toMatch(/^<!doctype html>/);
    expect(page.stdout).toContain('<svg class="chart heatmap"');
    expect(page.stdout).not.toMatch(/<script|https?:\/\//);
    const directory = await mkdtemp(join(tmpdir(), "backing-exposure-"));
    const written = await runCli(["report", "exposure", "-", "--format", "html", "--out", directory], {
      stdin: JSON.stringify(document("100000")),
    });
    expect(written.stdout.trim()).toBe(join(directory, "exposure.html"));
    expect(await readFile(join(directory, "exposure.html"), "utf8")).toBe(page.stdout);
  });

  it("exits 2 on bad input, naming the problem", async () => {
    const bad = await runCli(["report", "exposure", "-", "--json"], {
      stdin: JSON.stringify({
        ...document("100000"),
        params: { exposure: { heatmap: { binWidth: "0.00001" } } },
      }),
    });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toContain("params.exposure.heatmap");
    const csv = await runCli(["report", "exposure", "-", "--format", "csv"], { stdin: "{}" });
    expect(csv.code).toBe(2);
    expect(csv.stderr).toContain("--out");
    const unknown = await runCli(["report", "risk"]);
    expect(unknown.code).toBe(2);
    const noSource = await runCli(["report", "exposure"], {
      env: { ...process.env, BACKING_DYNAMODB_ENDPOINT: "" },
    });
    expect(noSource.code).toBe(2);
    expect(noSource.stderr).toContain("no portfolio file");
    const previous = await runCli(["report", "exposure", "-", "--previous", "/nonexistent"], {
      stdin: JSON.stringify(document("100000")),
    });
    expect(previous.code).toBe(2);
    expect(previous.stderr).toContain("--previous /nonexistent");
  });

  it("without a file, runs the exposure job once against a running system's table", async () => {
    const { store, tableName, drop } = await freshStore();
    try {
      await store.putAccounts(Account.array().parse(document("100000").accounts));
      const timestamp = new Date().toISOString();
      await ingestPriceEvents(
        [
          { eventId: "BTC@1", asset: "BTC", index: "100000", timestamp, source: "test" },
          { eventId: "USDC@1", asset: "USDC", index: "1", timestamp, source: "test" },
        ],
        { store, now: () => Date.parse(timestamp) },
      );
      const out = await mkdtemp(join(tmpdir(), "backing-exposure-store-"));
      const env = {
        ...process.env,
        BACKING_DYNAMODB_ENDPOINT: inject("dynamoEndpoint"),
        BACKING_TABLE_NAME: tableName,
      };
      const run = await runCli(["report", "exposure", "--json", "--out", out], { env });
      expect(run.code, run.stderr).toBe(0);
      const report = ExposureReport.parse(JSON.parse(run.stdout));
      expect(report.accounts).toBe(2);
      expect(report.assets.BTC?.gross).toBe("200000");
      expect((await store.latestReportSummary("exposure"))?.summary).toMatchObject({ accounts: 2 });
      const [folder] = await readdir(join(out, "exposure"));
      expect(await readdir(join(out, "exposure", folder as string))).toContain("exposure.html");
    } finally {
      await drop();
    }
  });
});

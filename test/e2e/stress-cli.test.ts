import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StressReport } from "@backing/contracts";
import { ingestPriceEvents } from "@backing/engine";
import { describe, expect, inject, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { freshStore } from "../helpers/dynamo.ts";

// Long 1 BTC @ 100,000 on 20,000 USDC; fund 10,000. FTX pack scenario: BTC −25% → bad debt 5,000.
const document = {
  asOf: "2026-01-15T00:00:00Z",
  prices: { BTC: { index: "100000" }, USDC: { index: "1" } },
  params: { stress: { insuranceFund: "10000" } },
  accounts: [
    {
      id: "a-1",
      venue: "v",
      collateral: { USDC: "20000" },
      positions: [
        { instrument: "BTC-PERP", type: "perp", underlying: "BTC", size: "1", entryPrice: "100000" },
      ],
    },
  ],
};

describe("backing stress", () => {
  it("prints DESIGN §3.8's JSON for the shipped pack", async () => {
    const { code, stdout, stderr } = await runCli(["stress", "-", "--json"], {
      stdin: JSON.stringify(document),
    });
    expect(code, stderr).toBe(0);
    const report = StressReport.parse(JSON.parse(stdout));
    expect(report.pack).toBe("backing-default");
    expect(report.scenarios).toHaveLength(12);
    const ftx = report.scenarios.find((s) => s.id === "HIST_2022_11_FTX");
    // 1 BTC closed out at 75,000 into a $7.52bn × 0.6 book moves BTC by 0.04·sqrt(75,000/4.512bn) ≈ 0.016%;
    // the account fills at that price, so the bad debt is 5,000 plus its 75,000 × 0.016% slippage.
    expect(ftx?.accounts[0]?.status).toBe("LIQUIDATION");
    expect(Number(ftx?.totalBadDebt)).toBeCloseTo(5000 + 75000 * 0.04 * Math.sqrt(75000 / 4.512e9), 4);
    expect(ftx?.cascade.rounds).toBe(1);
    // Reverse: 25,000k − 20,000 (+ slippage) > 10,000 just above k = 1.2
    expect(Number(ftx?.reverseSeverity)).toBeGreaterThan(1.19);
    expect(Number(ftx?.reverseSeverity)).toBeLessThanOrEqual(1.2001);
  });

  it("walks a book given with --depth, and refuses a bad one naming the level (exit 2)", async () => {
    const directory = await mkdtemp(join(tmpdir(), "backing-depth-"));
    const book = {
      asset: "BTC",
      timestamp: "2026-01-15T00:00:00Z",
      bids: [
        ["99000", "0.5"],
        ["97000", "2"],
      ],
      asks: [["101000", "1"]],
    };
    const good = join(directory, "depth.json");
    await writeFile(good, JSON.stringify(book));
    // FTX: BTC −25 % → 75,000, depth × 0.6: the bids hold 0.3 at −1 % and 1.2 at −3 %. Selling the
    // account's 1 BTC reaches −3 %: 75,000 × 0.97 = 72,750, where it fills: 20,000 − 27,250 = −7,250.
    const run = await runCli(
      ["stress", "-", "--depth", good, "--scenario", "HIST_2022_11_FTX", "--skip-reverse", "--json"],
      { stdin: JSON.stringify(document) },
    );
    expect(run.code, run.stderr).toBe(0);
    const ftx = StressReport.parse(JSON.parse(run.stdout)).scenarios[0];
    expect(ftx?.cascade.finalPrices.BTC).toBe("72750");
    expect(ftx?.totalBadDebt).toBe("7250");
    expect(ftx?.cascade.pricing).toEqual({
      BTC: {
        pricedBy: "depth",
        side: "bids",
        levelsTouched: 2,
        consumed: "1",
        visible: "1.5",
        pastBook: false,
      },
    });

    const crossed = join(directory, "crossed.json");
    await writeFile(crossed, JSON.stringify({ ...book, asks: [["98000", "1"]] }));
    const bad = await runCli(["stress", "-", "--depth", crossed, "--skip-reverse"], {
      stdin: JSON.stringify(document),
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("asks[0][0]: crossed book: the best ask 98000 is not above the best bid");
    expect(bad.stdout).toBe("");
  });

  it("runs one scenario, in table and csv form", async () => {
    const table = await runCli(
      ["stress", "-", "--scenario", "HIST_2022_11_FTX", "--format", "table", "--skip-reverse"],
      { stdin: JSON.stringify(document) },
    );
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^scenario\s+healthy/m);
    expect(table.stdout).toMatch(/^HIST_2022_11_FTX\s+0\s+0\s+0\s+1/m);
    const csv = await runCli(
      ["stress", "-", "--scenario", "HIST_2022_11_FTX", "--format", "csv", "--skip-reverse"],
      { stdin: JSON.stringify(document) },
    );
    expect(csv.stdout.split("\n")[0]).toBe(
      "scenario,healthy,warning,marginCall,liquidation,totalBadDebt,insuranceFundAfter,cover1,cover2,reverseSeverity,cascadeRounds,addedBadDebt,cascadePricedBy",
    );
  });

  it("takes a user pack and names the paths of a bad one (exit 2)", async () => {
    const directory = await mkdtemp(join(tmpdir(), "backing-pack-"));
    const good = join(directory, "good.json");
    await writeFile(
      good,
      JSON.stringify({
        id: "mine",
        version: "1",
        scenarios: [
          {
            id: "DROP",
            name: "drop",
            type: "hypothetical",
            horizon: "PT1H",
            shocks: { BTC: { price: "-0.1" } },
          },
        ],
      }),
    );
    const ok = await runCli(["stress", "-", "--pack", good, "--skip-reverse"], {
      stdin: JSON.stringify(document),
    });
    expect(ok.code, ok.stderr).toBe(0);
    // BTC 90,000: equity 10,000 against IM 900 → HEALTHY
    expect(JSON.parse(ok.stdout)).toMatchObject({
      pack: "mine",
      scenarios: [{ id: "DROP", accountsByStatus: { HEALTHY: 1 } }],
    });
    const bad = join(directory, "bad.json");
    await writeFile(
      bad,
      JSON.stringify({
        id: "mine",
        version: "1",
        scenarios: [
          { id: "DROP", name: "drop", type: "hypothetical", horizon: "1h", shocks: { BTC: { price: "x" } } },
        ],
      }),
    );
    const refused = await runCli(["stress", "-", "--pack", bad], { stdin: JSON.stringify(document) });
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toContain("scenarios[0].horizon: expected an ISO 8601 duration");
    expect(refused.stderr).toContain("scenarios[0].shocks.BTC.price: expected a decimal string");
    const unknown = await runCli(["stress", "-", "--scenario", "NOPE"], { stdin: JSON.stringify(document) });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown --scenario NOPE");
  });

  it("over a running system's stored book (--endpoint, --table) runs the stress job on worker threads and prints the same scenarios", async () => {
    const { store, tableName, drop } = await freshStore();
    try {
      const { params: _, ...unparameterised } = document;
      await store.putAccounts(unparameterised.accounts as never);
      const now = Date.now();
      await ingestPriceEvents(
        [
          {
            eventId: "BTC@1",
            asset: "BTC",
            index: "100000",
            timestamp: new Date(now).toISOString(),
            source: "t",
          },
          {
            eventId: "USDC@1",
            asset: "USDC",
            index: "1",
            timestamp: new Date(now).toISOString(),
            source: "t",
          },
        ],
        { store, now: () => now },
      );
      const out = await mkdtemp(join(tmpdir(), "backing-stress-stored-"));
      const stored = await runCli([
        "stress",
        "--json",
        "--endpoint",
        inject("dynamoEndpoint"),
        "--table",
        tableName,
        "--out",
        out,
      ]);
      expect(stored.code, stored.stderr).toBe(0);
      expect(stored.stderr).toMatch(/wrote \S*backing-stress-stored-\S*\/stress\/stress_[0-9a-f]{24}\.json/);
      const fromFile = await runCli(["stress", "-", "--json", "--skip-reverse"], {
        stdin: JSON.stringify(unparameterised),
      });
      const scenarios = (text: string) => StressReport.parse(JSON.parse(text)).scenarios;
      expect(scenarios(stored.stdout)).toEqual(scenarios(fromFile.stdout));
      expect((await store.latestReportSummary("stress"))?.summary).toMatchObject({ accounts: 1 });
    } finally {
      await drop();
    }
  }, 120_000);
});

import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReplayReport } from "@backing/contracts";
import { describe, expect, inject, it } from "vitest";
import { ROOT, runCli } from "../helpers/cli.ts";
import { startReceiver } from "../helpers/receiver.ts";

// A hand-worked backtest (DESIGN §3.12). One BTC bracket: IM 10%, MM 5% of notional; USDC without
// haircut; warning at IM × 1.2; a cure must clear its threshold × 1.02; calls expire after 2 h;
// the venue closes everything at once and keeps a 0.5% fee; the fund starts at 1,000.
// Every account is long 1 BTC-PERP from 10,000 (a-short: short 1), so equity = USDC + P − 10,000.
const book = {
  asOf: "2026-01-15T00:00:00Z",
  prices: { BTC: { index: "10000" }, USDC: { index: "1" } },
  params: {
    version: "loose",
    brackets: { BTC: [{ notionalCap: "1000000000", maxLeverage: "10", mmr: "0.05" }] },
    status: { callDeadlineHours: 2 },
    stress: { insuranceFund: "1000" },
    liquidation: { fee: "0.005" },
  },
  accounts: [
    ["a-call", "1100", "1"],
    ["a-liq", "680", "1"],
    ["a-bankrupt", "1500", "1"],
    ["a-short", "5000", "-1"],
  ].map(([id, usdc, size]) => ({
    id,
    venue: "venue-a",
    collateral: { USDC: usdc },
    positions: [{ instrument: "BTC-PERP", type: "perp", underlying: "BTC", size, entryPrice: "10000" }],
  })),
};
// Hourly from 00:00: the BTC index at t0 … t9.
const PATH = ["10000", "9800", "9500", "9600", "9200", "9800", "10000", "8000", "8200", "8400"];
const at = (hour: number) => `2026-01-15T${String(hour).padStart(2, "0")}:00:00.000Z`;
const csv = `timestamp,asset,index\n${PATH.map((p, h) => `${at(h)},BTC,${p}`).join("\n")}\n`;

async function files(extra: Record<string, string> = {}) {
  const dir = await mkdtemp(join(tmpdir(), "backing-replay-"));
  await writeFile(join(dir, "book.json"), JSON.stringify(book));
  await writeFile(join(dir, "path.csv"), csv);
  for (const [name, text] of Object.entries(extra)) await writeFile(join(dir, name), text);
  return dir;
}
const env = () => ({ ...process.env, BACKING_DYNAMODB_ENDPOINT: inject("dynamoEndpoint") });
const replay = (args: string[]) => runCli(["replay", ...args], { env: env() });

describe("backing replay", () => {
  it("replays a small book over a 10-step path: every call, cure, liquidation and expiry as worked out by hand", async () => {
    const dir = await files();
    const result = await replay([join(dir, "book.json"), join(dir, "path.csv"), "--json"]);
    expect(result.stderr).toContain("path.csv, 10 steps");
    expect(result.code).toBe(0);
    const report = ReplayReport.parse(JSON.parse(result.stdout));
    expect(report).toMatchObject({ path: "path.csv", steps: 10 });
    const [run] = report.runs;
    // a-call  (E = P − 8,900): t0 E 1,100 < 1.2 × IM 1,000 → WARNING; t1 E 900 < IM 980 → call
    //   (deadline t3); t3 still called (E 700 ≥ MM 480) → expired; t4 E 300 < MM 460 →
    //   liquidation: closed at 9,200, fee 46, equity 254, flat → cured.
    // a-liq   (E = P − 9,320): t0 E 680 < IM 1,000, ≥ MM 500 → call; t1 E 480 < MM 490 →
    //   liquidation: closed at 9,800, fee 49, equity 431 → cured (before its deadline).
    // a-bankrupt (E = P − 8,500): t2 E 1,000 < 1.2 × 950 → WARNING; t4 E 700 < IM 920 → call;
    //   t5 E 1,300 ≥ 1.02 × IM 980 → cured with no deposit and no liquidation (a false alarm);
    //   t7 the gap to 8,000: E −500 → liquidation, closed at 8,000, fee 40, equity −540:
    //   bad debt 540, paid by the fund; written off to 0 → cured.
    // a-short (E = 5,000 + 10,000 − P): healthy throughout.
    expect(run?.notifications.map((n) => [n.timestamp, n.account, n.type, n.equity])).toEqual([
      [at(0), "a-call", "margin.warning", "1100"],
      [at(0), "a-liq", "margin.call", "680"],
      [at(1), "a-call", "margin.call", "900"],
      [at(1), "a-liq", "margin.liquidation", "480"],
      [at(1), "a-liq", "margin.cured", "431"],
      [at(2), "a-bankrupt", "margin.warning", "1000"],
      [at(3), "a-call", "margin.call.expired", "900"],
      [at(4), "a-bankrupt", "margin.call", "700"],
      [at(4), "a-call", "margin.liquidation", "300"],
      [at(4), "a-call", "margin.cured", "254"],
      [at(5), "a-bankrupt", "margin.cured", "1300"],
      [at(7), "a-bankrupt", "margin.liquidation", "-500"],
      [at(7), "a-bankrupt", "margin.cured", "0"],
    ]);
    // Liquidated notional 9,800 + 9,200 + 8,000; fees 49 + 46 + 40.
    expect(run?.totals).toEqual({
      calls: 3,
      liquidations: 3,
      cures: 4,
      expiredCalls: 1,
      falseAlarms: 1,
      topUps: 0,
      liquidatedNotional: "27000",
      fees: "135",
      badDebt: "540",
      fundUsed: "540",
      adlNotional: "0",
    });
    // The fund: 1,000; +49 at t1; +46 at t4; +40 − 540 at t7.
    expect(run?.timeline.map((t) => t.insuranceFund)).toEqual([
      "1000",
      "1049",
      "1049",
      "1049",
      "1095",
      "1095",
      "1095",
      "595",
      "595",
      "595",
    ]);
    expect(run?.timeline[1]).toEqual({
      timestamp: at(1),
      prices: { BTC: "9800", USDC: "1" },
      accountsByStatus: { HEALTHY: 3, WARNING: 0, MARGIN_CALL: 1, LIQUIDATION: 0 },
      insuranceFund: "1049",
    });
    expect(run?.accounts["a-bankrupt"]?.fills).toEqual([
      { timestamp: at(7), instrument: "BTC-PERP", size: "-1", price: "8000", fee: "40", kind: "liquidation" },
    ]);
    expect(run?.accounts["a-bankrupt"]?.badDebt).toBe("540");
    expect(run?.accounts["a-liq"]?.transitions).toEqual([
      { timestamp: at(0), from: "HEALTHY", to: "MARGIN_CALL" },
      { timestamp: at(1), from: "MARGIN_CALL", to: "LIQUIDATION" },
      { timestamp: at(1), from: "LIQUIDATION", to: "HEALTHY" },
    ]);
    expect(run?.accounts["a-short"]).toEqual({ transitions: [], fills: [], badDebt: "0" });

    // The same path again gives the same report, to the byte.
    const again = await replay([join(dir, "book.json"), join(dir, "path.csv"), "--json"]);
    expect(again.stdout).toBe(result.stdout);
  });

  it("deleverages the profitable short when the fund cannot pay a bankruptcy", async () => {
    // The same book and path with a fund of 100: at t7 it holds 100 + 49 + 46 + 40 = 235 against
    // a-bankrupt's 540. The 305 left goes to ADL: a-short (short 1 from 10,000, profit 2,000 at
    // 8,000) is the only profitable opposite position; it closes 1 BTC at 8,000 and gives up 305.
    const small = { ...book, params: { ...book.params, stress: { insuranceFund: "100" } } };
    const dir = await files({ "small.json": JSON.stringify(small) });
    const result = await replay([join(dir, "small.json"), join(dir, "path.csv"), "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const [run] = ReplayReport.parse(JSON.parse(result.stdout)).runs;
    expect(run?.totals).toMatchObject({ badDebt: "540", fundUsed: "235", adlNotional: "8000" });
    expect(run?.timeline[7]?.insuranceFund).toBe("0");
    expect(run?.accounts["a-short"]?.fills).toEqual([
      {
        timestamp: at(7),
        instrument: "BTC-PERP",
        size: "1",
        price: "8000",
        fee: "0",
        kind: "adl",
        charge: "305",
      },
    ]);
  });

  it("runs two parameter sets side by side: the tighter IM calls earlier, clients top up, and fewer are liquidated", async () => {
    // One account, long 1 BTC from 10,000 with 1,500 USDC; path 10,000 → 9,300 → 8,600. With
    // --top-up 1 every called client deposits at the next step, after its prices, what clears the
    // call then: IM × 1.02 − equity, in USDC.
    // loose (IM 10%): t1 E 800 < IM 930 → call; t2 the tick to 8,600 leaves E 100 < MM 430 before
    //   the deposit → liquidated at 8,600 (fee 43). 1 call, no top-up, 1 liquidation.
    // tight (IM 20%): t0 E 1,500 < IM 2,000 → call; t1 E 800 < IM 1,860, deposit
    //   1,897.2 − 800 = 1,097.2 → cured; t2 E 2,597.2 − 1,400 = 1,197.2 < IM 1,720 but ≥ MM 430
    //   → call. 2 calls, 1 top-up, no liquidation.
    const one = { ...book, accounts: [{ ...book.accounts[2], id: "b" }] };
    const dir = await files({
      "one.json": JSON.stringify(one),
      "short.csv": `timestamp,asset,index\n${at(0)},BTC,10000\n${at(1)},BTC,9300\n${at(2)},BTC,8600\n`,
      "loose.json": JSON.stringify({ version: "loose" }),
      "tight.json": JSON.stringify({
        version: "tight",
        brackets: { BTC: [{ notionalCap: "1000000000", maxLeverage: "5", mmr: "0.05" }] },
      }),
    });
    const result = await replay([
      join(dir, "one.json"),
      join(dir, "short.csv"),
      "--params",
      join(dir, "loose.json"),
      "--params",
      join(dir, "tight.json"),
      "--top-up",
      "1",
      "--format",
      "html",
      "--out",
      join(dir, "out"),
      "--json",
    ]);
    expect(result.code).toBe(0);
    const report = ReplayReport.parse(JSON.parse(result.stdout));
    const [loose, tight] = report.runs;
    expect(loose?.paramsVersion).toBe("loose");
    expect(tight?.paramsVersion).toBe("tight");
    expect(loose?.totals).toMatchObject({ calls: 1, topUps: 0, liquidations: 1, fees: "43" });
    expect(tight?.totals).toMatchObject({ calls: 2, topUps: 1, liquidations: 0, cures: 1, fees: "0" });
    expect(tight?.notifications.map((n) => [n.timestamp, n.type, n.equity])).toEqual([
      [at(0), "margin.call", "1500"],
      [at(1), "margin.cured", "1897.2"],
      [at(2), "margin.call", "1197.2"],
    ]);
    expect(result.stderr).toMatch(/liquidations\s+1\s+0/);
    const html = await readFile(join(dir, "out", "replay.html"), "utf8");
    expect(html).toContain("Parameter sets compared");
    expect(JSON.parse(await readFile(join(dir, "out", "replay.json"), "utf8"))).toEqual(report);
  });

  it("killed halfway and run again, gives the report of an uninterrupted run; the killed run wrote nothing", async () => {
    const dir = await files();
    const out = join(dir, "killed");
    const args = ["replay", join(dir, "book.json"), join(dir, "path.csv"), "--out", out];
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [join(ROOT, "bin", "backing.mjs"), ...args], {
        cwd: ROOT,
        env: env(),
        stdio: ["ignore", "ignore", "pipe"],
      });
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
        if (chunk.includes("replay: 50%")) child.kill("SIGKILL");
      });
      child.on("error", reject);
      child.on("close", () => resolve());
    });
    await expect(readdir(out)).rejects.toThrow();
    const rerun = await runCli(args, { env: env() });
    expect(rerun.code).toBe(0);
    const clean = await replay([join(dir, "book.json"), join(dir, "path.csv"), "--json"]);
    expect(await readFile(join(out, "replay.json"), "utf8")).toBe(clean.stdout);
  });

  it.each([
    [
      "a CSV row missing its index",
      `timestamp,asset,index\n${at(0)},BTC\n`,
      /path\.csv:2: index: expected timestamp,asset,index/,
    ],
    [
      "an unknown asset",
      `timestamp,asset,index\n${at(0)},DOGE,0.1\n`,
      /path\.csv:2: asset: unknown asset "DOGE"/,
    ],
    [
      "timestamps out of order",
      `timestamp,asset,index\n${at(1)},BTC,9000\n${at(0)},BTC,9100\n`,
      /path\.csv:3: timestamp: .* is before the previous event's/,
    ],
    [
      "a non-numeric price",
      `timestamp,asset,index\n${at(0)},BTC,12k\n`,
      /path\.csv:2: index: expected a positive decimal price, got "12k"/,
    ],
    [
      "a funding print before the portfolio's asOf",
      `{"eventId":"f0","venue":"venue-a","asset":"BTC","rate":"0.001","fundingTime":"2026-01-14T16:00:00Z","source":"feed"}\n`,
      /path\.csv:1: fundingTime: 2026-01-14T16:00:00Z is before the portfolio's asOf/,
    ],
  ])("refuses %s: exit 2, the line named, nothing written", async (_, text, message) => {
    const dir = await files({ "path.csv": text });
    const out = join(dir, "out");
    const result = await replay([join(dir, "book.json"), join(dir, "path.csv"), "--out", out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe("");
    await expect(readdir(out)).rejects.toThrow();
  });

  it("replays NDJSON price and funding events: a funding print calls a long", async () => {
    // Long 1 BTC-PERP from 10,000 settling against F (fundingIndex 0), 1,020 USDC, BTC at 10,000:
    // t0 equity 1,020 < 1.2 × IM 1,000 → WARNING. t1 a 0.3% print at 10,000 raises F by 30: the
    // long owes 1 × 30, equity 990 < IM 1,000 → margin call.
    const funded = {
      ...book,
      cumulativeFunding: { "venue-a": { BTC: "0" } },
      accounts: [
        {
          id: "long",
          venue: "venue-a",
          collateral: { USDC: "1020" },
          positions: [
            {
              instrument: "BTC-PERP",
              type: "perp",
              underlying: "BTC",
              size: "1",
              entryPrice: "10000",
              fundingIndex: "0",
            },
          ],
        },
      ],
    };
    const price = (hour: number) =>
      JSON.stringify({
        eventId: `p${hour}`,
        asset: "BTC",
        index: "10000",
        timestamp: at(hour),
        source: "feed",
      });
    const print = JSON.stringify({
      eventId: "f1",
      venue: "venue-a",
      asset: "BTC",
      rate: "0.003",
      fundingTime: at(1),
      price: "10000",
      source: "feed",
    });
    const dir = await files({
      "funded.json": JSON.stringify(funded),
      "events.ndjson": `${price(0)}\n${price(1)}\n${print}\n`,
    });
    const result = await replay([join(dir, "funded.json"), join(dir, "events.ndjson"), "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const [run] = ReplayReport.parse(JSON.parse(result.stdout)).runs;
    expect(run?.notifications.map((n) => [n.timestamp, n.type, n.equity, n.initialMargin])).toEqual([
      [at(0), "margin.warning", "1020", "1000"],
      [at(1), "margin.call", "990", "1000"],
    ]);
  });

  it("sends every notification of the replay as a signed webhook with --webhook", async () => {
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const receiver = await startReceiver({ secrets: () => [secret] });
    try {
      const dir = await files();
      const result = await replay([
        join(dir, "book.json"),
        join(dir, "path.csv"),
        "--webhook",
        receiver.url("/venue-a"),
        "--webhook-secret",
        secret,
        "--allow-loopback-webhooks",
        "--json",
      ]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain(`webhooks for venue-a to ${receiver.url("/venue-a")}`);
      const [run] = ReplayReport.parse(JSON.parse(result.stdout)).runs;
      // The 13 notifications worked out above, each delivered once and verified.
      expect(run?.webhooks).toEqual({ delivered: 13, parked: 0, pending: 0 });
      expect(receiver.received).toHaveLength(13);
      expect(receiver.received.every((r) => r.verified)).toBe(true);
      const types = receiver.received.map((r) => (JSON.parse(r.body) as { type: string }).type);
      expect(types.filter((t) => t === "margin.liquidation")).toHaveLength(3);
    } finally {
      await receiver.close();
    }
  });

  it("refuses a webhook URL that would leave the machine unguarded: exit 2 before anything runs", async () => {
    const dir = await files();
    const result = await replay([
      join(dir, "book.json"),
      join(dir, "path.csv"),
      "--webhook",
      "http://127.0.0.1:9/hook",
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--webhook refused/);
  });

  it("lists the shipped paths with their provenance", async () => {
    const result = await runCli(["replay", "--list"]);
    expect(result.code).toBe(0);
    for (const id of ["ftx-2022", "black-thursday-2020", "may-2021", "aug-2024", "oct-2025"])
      expect(result.stdout).toContain(id);
    expect(result.stdout).toContain("sources:");
    expect(result.stdout).toContain("interpolated:");
  });
});

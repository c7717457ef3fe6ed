import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ExposureJobResult,
  ingestPriceEvents,
  runExposureJob,
  runStressJob,
  type StressJobResult,
  startExposureJob,
  startStressJob,
} from "@backing/engine";
import { demoBook, runOnThreads } from "@backing/local";
import { exposureRendering, folderReportStore } from "@backing/reports";
import { afterAll, describe, expect, inject, it } from "vitest";
import { freshStore } from "../helpers/dynamo.ts";

const PRICES = { BTC: "21000", ETH: "1610", SOL: "35", USDT: "1", USDC: "1", stETH: "1593.9" };
const VOLATILITY = { BTC: "0.9", ETH: "1.1", SOL: "1.3" };
const drops: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const drop of drops) await drop();
});

/** A stored book on DynamoDB Local, priced now, with a report folder. */
async function storedBook() {
  const { store, tableName, drop } = await freshStore();
  drops.push(drop);
  await store.putAccounts(
    demoBook({
      accounts: 150,
      prices: PRICES,
      futureExpiry: "2031-12-26T08:00:00Z",
      optionExpiry: "2031-06-27T08:00:00Z",
      seed: 3,
    }),
  );
  const at = Date.now();
  await ingestPriceEvents(
    Object.entries(PRICES).map(([asset, index]) => ({
      eventId: `${asset}@t`,
      asset,
      index,
      timestamp: new Date(at).toISOString(),
      source: "test",
    })),
    { store, now: () => at },
  );
  const reportDir = await mkdtemp(join(tmpdir(), "backing-threads-"));
  const deps = {
    store,
    now: () => at,
    volatility: VOLATILITY,
    reports: folderReportStore(reportDir),
    rendering: exposureRendering,
  };
  const config = { endpoint: inject("dynamoEndpoint"), tableName, reportDir, volatility: VOLATILITY };
  return { deps, config };
}

describe("sharded jobs on worker threads (DynamoDB Local)", () => {
  it("runs the exposure report's and the stress pack's segments on 2 threads and writes the single-process reports", async () => {
    const { deps, config } = await storedBook();
    const inline = await runExposureJob(deps);
    const progress: number[] = [];
    const threaded = await runOnThreads<ExposureJobResult>(
      config,
      (queue, segments) => startExposureJob(deps, queue, { segments }),
      { threads: 2, onProgress: (n) => progress.push(n) },
    );
    expect(threaded.report).toEqual(inline.report);
    expect(threaded.accounts).toBe(150);
    expect(progress.at(-1)).toBe(150);

    const stressInline = await runStressJob(deps);
    const stressThreaded = await runOnThreads<StressJobResult>(
      config,
      (queue, segments) => startStressJob(deps, queue, { segments }),
      { threads: 2 },
    );
    expect(stressThreaded.scenarios).toEqual(stressInline.scenarios);
    const sorted = (text: string) => {
      const report = JSON.parse(text) as { scenarios: { accounts: { id: string }[] }[] };
      for (const s of report.scenarios) s.accounts.sort((a, b) => (a.id < b.id ? -1 : 1));
      return report;
    };
    expect(sorted(await readFile(stressThreaded.location, "utf8"))).toEqual(
      sorted(await readFile(stressInline.location, "utf8")),
    );
  }, 120_000);
});

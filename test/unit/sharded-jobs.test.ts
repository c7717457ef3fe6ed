import type { JobTask } from "@backing/contracts";
import {
  consumeJobTasks,
  exposureJob,
  ingestPriceEvents,
  runExposureJob,
  runShardedTask,
  runStressJob,
  type ShardedJob,
  type ShardedJobDeps,
  type Store,
  startExposureJob,
  startStressJob,
  stressJob,
} from "@backing/engine";
import { memoryStore } from "@backing/engine/testing";
import { demoBook } from "@backing/local";
import { exposureRendering } from "@backing/reports";
import { describe, expect, it } from "vitest";
import { memoryReports } from "../helpers/reports.ts";

const PRICES = { BTC: "21000", ETH: "1610", SOL: "35", USDT: "1", USDC: "1", stETH: "1593.9" };
const CRASH = { BTC: "15800", ETH: "1100", SOL: "14", USDT: "0.99", USDC: "1", stETH: "1040" };
const VOLATILITY = { BTC: "0.9", ETH: "1.1", SOL: "1.3" };
const T0 = Date.parse("2022-11-08T00:00:00Z");
const T1 = T0 + 3_600_000;
const book = demoBook({
  accounts: 160,
  prices: PRICES,
  futureExpiry: "2022-12-30T08:00:00Z",
  optionExpiry: "2022-11-25T08:00:00Z",
  seed: 11,
});

async function priced(store: Store, prices: Record<string, string>, at: number) {
  await ingestPriceEvents(
    Object.entries(prices).map(([asset, index]) => ({
      eventId: `${asset}@${at}`,
      asset,
      index,
      timestamp: new Date(at).toISOString(),
      source: "test",
    })),
    { store, now: () => at },
  );
}

/** A store with the book priced at T0, then crashed at T1 (so the second report has changes to show). */
async function bookStore() {
  const store = memoryStore();
  await store.putAccounts(book);
  await priced(store, PRICES, T0);
  const { reports, files, failOnce } = memoryReports();
  const deps = (at: number) => ({
    store,
    now: () => at,
    volatility: VOLATILITY,
    reports,
    rendering: exposureRendering,
  });
  return { store, deps, files, failOnce };
}

const sortedLines = (text: string | undefined) => (text ?? "").split("\n").sort();

/**
 * The job's queue as SQS is: tasks wait until a worker takes them, a task whose worker throws goes
 * back to the queue, and workers take them in any order (here: last sent first).
 */
async function drain<Deps extends ShardedJobDeps>(
  deps: Deps,
  job: ShardedJob<Deps, unknown>,
  tasks: JobTask[],
) {
  const queue = { send: async (sent: readonly JobTask[]) => void tasks.push(...sent) };
  const failures: string[] = [];
  const outcomes: string[] = [];
  for (let task = tasks.pop(); task; task = tasks.pop()) {
    try {
      outcomes.push((await runShardedTask(deps, job, queue, task)).state);
    } catch (error) {
      failures.push((error as Error).message);
      tasks.unshift(task);
    }
  }
  return { failures, outcomes };
}

describe("sharded exposure and stress jobs", () => {
  it("the exposure report in 5 segments equals the one-segment report to the last digit, changes since the previous one included", async () => {
    const whole = await bookStore();
    const sharded = await bookStore();
    for (const [at, prices] of [
      [T0, PRICES],
      [T1, CRASH],
    ] as const) {
      await priced(whole.store, prices, at);
      await priced(sharded.store, prices, at);
      const one = await runExposureJob(whole.deps(at), { pageSize: 30 });
      const five = await runExposureJob(sharded.deps(at), { pageSize: 30, segments: 5 });
      expect(five.reportId).toBe(one.reportId);
      if (at === T1) expect(one.report.changes?.newMarginCalls.count).toBeGreaterThan(0);
      expect(five.report).toEqual(one.report);
      for (const name of Object.keys(one.locations))
        if (name.endsWith(".csv"))
          expect(sortedLines(sharded.files.get(five.locations[name] as string))).toEqual(
            sortedLines(whole.files.get(one.locations[name] as string)),
          );
        else
          expect(sharded.files.get(five.locations[name] as string)).toBe(
            whole.files.get(one.locations[name] as string),
          );
    }
    const second = await sharded.store.latestReportSummary("exposure");
    expect(second?.summary).toMatchObject({ accounts: 160, segments: 5 });
    expect(second?.id).toBe((await whole.store.latestReportSummary("exposure"))?.id);
  });

  it("the stress pack in 4 segments, meeting once per cascade round, writes the one-segment report", async () => {
    const whole = await bookStore();
    const sharded = await bookStore();
    const one = await runStressJob(whole.deps(T0), { pageSize: 30 });
    const four = await runStressJob(sharded.deps(T0), { pageSize: 40, segments: 4 });
    expect(four.scenarios).toEqual(one.scenarios);
    expect(one.scenarios.some((s) => s.cascadeRounds > 0)).toBe(true);
    type Report = { scenarios: { accounts: { id: string }[] }[] };
    const parsed = (files: Map<string, string>, location: string) => {
      const report = JSON.parse(files.get(location) as string) as Report;
      for (const scenario of report.scenarios) scenario.accounts.sort((a, b) => (a.id < b.id ? -1 : 1));
      return report;
    };
    expect(parsed(sharded.files, four.location)).toEqual(parsed(whole.files, one.location));
  });

  it("a worker that dies mid-task is retried; the report is whole, and nothing is reported before", async () => {
    const whole = await bookStore();
    const expected = await runStressJob(whole.deps(T0), { segments: 1 });

    const { deps, files, failOnce, store } = await bookStore();
    const tasks: JobTask[] = [];
    const start = await startStressJob(
      deps(T0),
      { send: async (sent) => void tasks.push(...sent) },
      { segments: 3 },
    );
    // Segment 1 dies writing its first pass, and again writing a final pass's rows.
    failOnce(`pass-0-segment-1.json`);
    failOnce(`rows-0-segment-1.txt`);
    const worker = deps(T0);
    const firstTask = tasks.pop() as JobTask;
    await runShardedTask(worker, stressJob, { send: async (sent) => void tasks.push(...sent) }, firstTask);
    expect(await store.latestReportSummary("stress")).toBeNull();
    const { failures, outcomes } = await drain(worker, stressJob, tasks);
    expect(failures).toHaveLength(2);
    expect(outcomes.filter((o) => o === "finished")).toHaveLength(1);
    const summary = await store.latestReportSummary("stress");
    expect(summary?.id).toBe(start.reportId);
    expect(summary?.summary).toEqual({
      pack: expect.any(String),
      paramsVersion: expect.any(String),
      accounts: 160,
      scenarios: expected.scenarios,
    });
    expect(files.has(summary?.location as string)).toBe(true);
    const ready = (await store.listNotifications()).filter((n) => n.type === "report.stress.ready");
    expect(ready.length).toBe(expected.notifications);
  });

  it("a segment's late retry after the run moved on changes nothing; a task that names no run is refused", async () => {
    const { deps, store } = await bookStore();
    const tasks: JobTask[] = [];
    await startExposureJob(deps(T0), { send: async (sent) => void tasks.push(...sent) }, { segments: 2 });
    const sent = [...tasks];
    await drain(deps(T0), exposureJob, tasks);
    const summary = await store.latestReportSummary("exposure");
    const replay = await runShardedTask(deps(T0), exposureJob, { send: async () => {} }, sent[0]);
    expect(replay.state).toBe("ignored");
    expect(await store.latestReportSummary("exposure")).toEqual(summary);
    await expect(
      runShardedTask(deps(T0), exposureJob, { send: async () => {} }, { ...sent[0], runId: "nope" }),
    ).rejects.toThrow("no exposure run nope");
    await expect(
      runShardedTask(deps(T0), exposureJob, { send: async () => {} }, { ...sent[0], segment: 7 }),
    ).rejects.toThrow("segment 7 of 2 does not exist");
  });

  it("the job worker's consumer runs each message, reports a poison one as a batch item failure, and hears the finished report", async () => {
    const { deps } = await bookStore();
    const queued: JobTask[] = [];
    const queue = { send: async (sent: readonly JobTask[]) => void queued.push(...sent) };
    const start = await startExposureJob(deps(T0), queue, { segments: 2 });
    const messages = [
      { messageId: "m0", body: JSON.stringify(queued[0]) },
      { messageId: "poison", body: JSON.stringify({ job: "exposure", runId: start.runId }) },
      { messageId: "m1", body: JSON.stringify(queued[1]) },
    ];
    const failed: string[] = [];
    const finished: string[] = [];
    const response = await consumeJobTasks({ exposure: deps(T0), stress: deps(T0), queue }, messages, {
      onFailure: (messageId) => failed.push(messageId),
      onFinished: (job, result) => finished.push(`${job} ${result.reportId} ${result.accounts}`),
    });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "poison" }]);
    expect(failed).toEqual(["poison"]);
    expect(finished).toEqual([`exposure ${start.reportId} 160`]);
  });
});

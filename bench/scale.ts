/**
 * Scale-out of the sharded jobs (npm run bench:scale; DESIGN §8): the same book swept by 1 and by
 * 2 worker processes, each pulling segment tasks as SQS would hand them to Lambda workers, against
 * one DynamoDB Local; then the exposure report and the stress pack (cascades included) by 1 and by
 * 2 worker threads (the local runtime's job queue). Each run has its own table, seeded and swept
 * once first (states and bands written), so the measured sweep is the steady per-minute one.
 * Prints the wall time of each, the ratios, peak memory, and the projection of a 1,000,000-account
 * sweep on 16 workers from one worker's measured throughput.
 *
 * The projection's model: a Lambda of 1 vCPU sweeps at this machine's one-worker rate (its core is
 * of the same class), the workers share nothing but DynamoDB, and DynamoDB on AWS serves 16
 * workers' reads and writes in parallel (on-demand tables spread over partitions; DynamoDB Local
 * serves every request on one thread, so here it is the shared bottleneck).
 */
import { fork } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SweepTask } from "@backing/contracts";
import { connect, createTable, dynamoStore } from "@backing/dynamo";
import {
  type ExposureJobResult,
  ingestPriceEvents,
  type JobTaskQueue,
  type StressJobResult,
  startExposureJob,
  startShardedSweep,
  startStressJob,
  sweepAccounts,
} from "@backing/engine";
import { demoBook, startDynamoLocal, threadJobQueue } from "@backing/local";
import { exposureRendering, folderReportStore } from "@backing/reports";
import { openingPrices } from "./opening-prices.ts";

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 20_000);
const SEGMENTS = 16;
const PRICES = { BTC: "21000", ETH: "1610", SOL: "35", USDT: "1", USDC: "1", stETH: "1593.9" };
const VOLATILITY = { BTC: "0.9", ETH: "1.1", SOL: "1.3" };
const T0 = Date.parse("2022-11-08T00:00:00Z");

async function seededTable(endpoint: string, name: string) {
  const { client, documents } = connect({ endpoint });
  await createTable(client, name);
  const store = dynamoStore(documents, name);
  const book = demoBook({
    accounts: ACCOUNTS,
    prices: PRICES,
    futureExpiry: "2022-12-30T08:00:00Z",
    optionExpiry: "2022-11-25T08:00:00Z",
  });
  for (let i = 0; i < book.length; i += 2_000) await store.putAccounts(book.slice(i, i + 2_000));
  await ingestPriceEvents(openingPrices(PRICES, T0), { store, now: () => T0 });
  await sweepAccounts({ store, now: () => T0, volatility: VOLATILITY }, { pageSize: 1_000 });
  return store;
}

/** One sharded sweep of the table by `workers` processes; returns its wall time and the workers' figures. */
async function shardedSweep(endpoint: string, table: string, workers: number) {
  const store = dynamoStore(connect({ endpoint }).documents, table);
  const tasks: SweepTask[] = [];
  const start = await startShardedSweep(
    {
      store,
      now: () => T0,
      volatility: VOLATILITY,
      sweepQueue: { send: async (t) => void tasks.push(...t) },
    },
    { segments: SEGMENTS },
  );
  if (!start.started) throw new Error("the sweep lease is held");
  const children = Array.from({ length: workers }, () =>
    fork(
      join(import.meta.dirname, "scale-worker.ts"),
      [endpoint, table, String(T0), JSON.stringify(VOLATILITY)],
      {
        execArgv: ["--import", "tsx"],
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
      },
    ),
  );
  // Every worker loaded and connected before the clock starts: a Lambda's cold start is not the sweep.
  await Promise.all(children.map((child) => new Promise((resolve) => child.once("message", resolve))));
  const began = performance.now();
  const figures = await Promise.all(
    children.map(
      (child) =>
        new Promise<{ accounts: number; peakMb: number }>((resolve, reject) => {
          child.once("exit", (code) => reject(new Error(`a worker exited (${code}) before it was done`)));
          let accounts = 0;
          const next = () => {
            const task = tasks.shift();
            child.send(task ? { task } : { done: true });
          };
          child.on("message", (message: { accounts?: number; peakMb?: number; error?: string }) => {
            if (message.error) reject(new Error(`a worker failed: ${message.error}`));
            else if (message.peakMb !== undefined) resolve({ accounts, peakMb: message.peakMb });
            else {
              accounts += message.accounts ?? 0;
              next();
            }
          });
          next();
        }),
    ),
  );
  const ms = performance.now() - began;
  const summary = (await store.getSweepRun(start.sweepId))?.summary;
  return { ms, figures, summary };
}

const results = [];
for (const workers of [1, 2]) {
  // A DynamoDB Local per run: the first run's table stream, unread, would slow every write of the
  // second on the same instance (bench:demo measured 12×).
  const local = await startDynamoLocal();
  try {
    const table = `bench-scale-${workers}`;
    process.stderr.write(`seeding ${ACCOUNTS.toLocaleString("en-US")} accounts for ${workers} worker(s)…\n`);
    await seededTable(local.endpoint, table);
    const run = await shardedSweep(local.endpoint, table, workers);
    if (run.summary?.accounts !== ACCOUNTS)
      throw new Error(`the sweep covered ${run.summary?.accounts} accounts`);
    const exposure = await onThreads<ExposureJobResult>(local.endpoint, table, workers, (deps, queue) =>
      startExposureJob(deps, queue, { segments: workers }),
    );
    const stress = await onThreads<StressJobResult>(local.endpoint, table, workers, (deps, queue) =>
      startStressJob(deps, queue, { segments: workers }),
    );
    if (exposure.result.accounts !== ACCOUNTS || stress.result.accounts !== ACCOUNTS)
      throw new Error("a report covered another number of accounts");
    results.push({ workers, ...run, exposure, stress });
    console.log(
      `${workers} worker(s): ${(run.ms / 1000).toFixed(2)} s for ${ACCOUNTS.toLocaleString("en-US")} accounts ` +
        `(${Math.round(ACCOUNTS / (run.ms / 1000)).toLocaleString("en-US")} accounts/s); ` +
        `per worker: ${run.figures.map((f) => `${f.accounts} accounts, peak ${f.peakMb} MB`).join("; ")}`,
    );
  } finally {
    await local.stop();
  }
}
const [one, two] = results as [(typeof results)[number], (typeof results)[number]];
const perWorker = ACCOUNTS / (one.ms / 1000);
const projected = 1_000_000 / (16 * perWorker);
for (const r of results)
  console.log(
    `${r.workers} thread(s): exposure report ${(r.exposure.ms / 1000).toFixed(2)} s, stress pack ${(r.stress.ms / 1000).toFixed(2)} s ` +
      `(${r.stress.result.scenarios.reduce((n, s) => n + s.cascadeRounds, 0)} cascade rounds); process peak RSS ${Math.max(r.exposure.peakMb, r.stress.peakMb)} MB`,
  );
console.log(`sweep, 2 workers / 1 worker: ${(one.ms / two.ms).toFixed(2)}x (target 1.8x)`);
console.log(
  `exposure report, 2 threads / 1 thread: ${(one.exposure.ms / two.exposure.ms).toFixed(2)}x (target 1.8x)`,
);
console.log(
  `stress pack, 2 threads / 1 thread: ${(one.stress.ms / two.stress.ms).toFixed(2)}x (target 1.8x)`,
);
console.log(
  `projected sweep of 1,000,000 accounts on 16 workers at ${Math.round(perWorker).toLocaleString("en-US")} accounts/s each: ` +
    `${projected.toFixed(1)} s (target 30 s)`,
);
console.log(
  `peak RSS per worker: ${Math.max(...results.flatMap((r) => r.figures.map((f) => f.peakMb)))} MB (target < 512 MB)`,
);

/**
 * A sharded report job on `threads` worker threads against the table: the clock starts once every
 * thread is loaded and connected, as a warm Lambda's would.
 */
async function onThreads<Result>(
  endpoint: string,
  table: string,
  threads: number,
  start: (deps: Parameters<typeof startExposureJob>[0], queue: JobTaskQueue) => Promise<unknown>,
) {
  const reportDir = await mkdtemp(join(tmpdir(), "bench-scale-"));
  const queue = threadJobQueue<Result>(
    { endpoint, tableName: table, reportDir, volatility: VOLATILITY },
    { threads },
  );
  try {
    await queue.ready();
    const deps = {
      store: dynamoStore(connect({ endpoint }).documents, table),
      now: () => T0,
      volatility: VOLATILITY,
      reports: folderReportStore(reportDir),
      rendering: exposureRendering,
    };
    const began = performance.now();
    await start(deps, queue);
    const result = await queue.result();
    return {
      ms: performance.now() - began,
      result,
      peakMb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await queue.close();
    await rm(reportDir, { recursive: true, force: true });
  }
}

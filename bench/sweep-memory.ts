/**
 * The sweep's memory at book size (npm run bench:sweep-memory; DESIGN §8: bounded, under 512 MB at
 * 1,000,000 accounts). Seeds BENCH_ACCOUNTS accounts (default 1,000,000), and a book a tenth that
 * size as the baseline, each into its own in-memory DynamoDB Local (on disk it seeds at ~260
 * accounts/s), each with a first sweep that writes every state and band. Then runs the sweep alone in a child
 * process (bench/sweep-process.ts), first with V8's default heap and then with the heap held to
 * 64 MB, and prints each one's peak RSS: a sweep whose memory is bounded peaks the same at both
 * sizes, and completes in the small heap.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { connect, createTable, dynamoStore } from "@backing/dynamo";
import { ingestPriceEvents, sweepAccounts } from "@backing/engine";
import { demoBook, startDynamoLocal } from "@backing/local";
import { openingPrices } from "./opening-prices.ts";

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 1_000_000);
const PRICES = { BTC: "21000", ETH: "1610", SOL: "35", USDT: "1", USDC: "1", stETH: "1593.9" };
const VOLATILITY = { BTC: "0.9", ETH: "1.1", SOL: "1.3" };
const T0 = Date.parse("2022-11-08T00:00:00Z");
const CHUNK = 10_000;
const run = promisify(execFile);
const tableOf = (accounts: number) => `bench-sweep-${accounts}`;

/** Seeds a book chunk by chunk (this process never holds it whole), then sweeps it once. */
async function seed(endpoint: string, accounts: number) {
  const { client, documents } = connect({ endpoint });
  await createTable(client, tableOf(accounts));
  const store = dynamoStore(documents, tableOf(accounts));
  const began = performance.now();
  const progress = (what: string) =>
    process.stderr.write(
      `\r${accounts.toLocaleString("en-US")}-account book: ${what} (${Math.round((performance.now() - began) / 1000)} s)`,
    );
  for (let from = 0; from < accounts; from += CHUNK) {
    // Each chunk is its own seeded book; ids carry the chunk so they stay unique.
    const chunk = demoBook({
      accounts: Math.min(CHUNK, accounts - from),
      prices: PRICES,
      futureExpiry: "2022-12-30T08:00:00Z",
      optionExpiry: "2022-11-25T08:00:00Z",
      seed: 2022 + from,
    }).map((account) => ({ ...account, id: `c${from / CHUNK}-${account.id}` }));
    for (let i = 0; i < chunk.length; i += 2_000) await store.putAccounts(chunk.slice(i, i + 2_000));
    progress(`${(from + chunk.length).toLocaleString("en-US")} accounts written`);
  }
  await ingestPriceEvents(openingPrices(PRICES, T0), { store, now: () => T0 });
  let shown = 0;
  await sweepAccounts(
    { store, now: () => T0, volatility: VOLATILITY },
    {
      pageSize: 1_000,
      onProgress: (n) => {
        if (n - shown < 10_000 && n !== accounts) return;
        progress(`first sweep ${n.toLocaleString("en-US")}`);
        shown = n;
      },
    },
  );
  process.stderr.write("\n");
}

/** The sweep alone in a child process against a seeded book: its time and peak RSS. */
async function sweepAlone(endpoint: string, accounts: number, heapMb: number | null) {
  const child = await run(process.execPath, [
    ...(heapMb ? [`--max-old-space-size=${heapMb}`] : []),
    "--import",
    "tsx",
    join(import.meta.dirname, "sweep-process.ts"),
    endpoint,
    tableOf(accounts),
    String(T0),
    JSON.stringify(VOLATILITY),
  ]);
  return JSON.parse(child.stdout.trim().split("\n").pop() as string) as {
    ms: number;
    accounts: number;
    baselineMb: number;
    peakMb: number;
  };
}

// One DynamoDB Local per book: a second table in the same in-memory Local seeds 15× slower.
for (const size of [Math.round(ACCOUNTS / 10), ACCOUNTS]) {
  const local = await startDynamoLocal({ maxHeap: "1g" });
  try {
    await seed(local.endpoint, size);
    for (const heapMb of [null, 64]) {
      const swept = await sweepAlone(local.endpoint, size, heapMb);
      console.log(
        `${size.toLocaleString("en-US").padStart(9)} accounts, ${heapMb ? `V8 heap held to ${heapMb} MB` : "default V8 heap      "}: peak RSS ${swept.peakMb} MB (${swept.baselineMb} MB before the sweep), ${swept.accounts.toLocaleString("en-US")} accounts in ${(swept.ms / 1000).toFixed(1)} s (${Math.round(swept.accounts / (swept.ms / 1000)).toLocaleString("en-US")}/s)`,
      );
    }
  } finally {
    await local.stop();
  }
}

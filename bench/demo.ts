/**
 * The main job's benchmark (npm run bench:demo): the default demo (5,000 accounts, the FTX week,
 * everything of DESIGN §7) three times, each phase's wall time as the median of the three, against
 * a floor measured in the same run: the raw DynamoDB Local time to write the items the demo left in
 * its table (read back, then BatchWrite 25 at a time into a fresh table, 4 in flight). The floor is
 * what the same data costs Local with no engine, no conditions, no transactions and no stream reader.
 *
 * Each run starts its own DynamoDB Local (its JVM start is the `start` phase, as in `npm start`);
 * the demo's table is kept there so that it can be read back. Last line:
 * `demo: <s> s (target 60 s)`, the median total.
 */
import { BatchWriteCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { connect, createTable } from "@backing/dynamo";
import { DEMO_PHASES, type DemoPhase, runDemo, startDynamoLocal } from "@backing/local";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 5_000);
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};
const seconds = (ms: number) => (ms / 1000).toFixed(1);

type Item = Record<string, unknown>;

/** Every item of a table (parallel Scan segments), then the time to BatchWrite them into a fresh one. */
async function rawWriteFloor(endpoint: string, tableName: string): Promise<{ items: number; ms: number }> {
  const { client, documents } = connect({ endpoint });
  const items: Item[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
    items.push(...((page.Items ?? []) as Item[]));
    start = page.LastEvaluatedKey;
  } while (start);
  const copy = `${tableName}-floor`;
  await createTable(client, copy);
  const batches: Item[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < batches.length) {
        let pending = (batches[next++] as Item[]).map((Item) => ({ PutRequest: { Item } }));
        while (pending.length > 0) {
          const response = await documents.send(new BatchWriteCommand({ RequestItems: { [copy]: pending } }));
          pending = (response.UnprocessedItems?.[copy] as typeof pending | undefined) ?? [];
        }
      }
    }),
  );
  return { items: items.length, ms: performance.now() - started };
}

const runs: { phases: Record<DemoPhase, number>; total: number; floor: number; items: number }[] = [];
for (let run = 1; run <= RUNS; run++) {
  const started = performance.now();
  const local = await startDynamoLocal();
  const jvmStart = performance.now() - started;
  try {
    const tableName = `bench-demo-${run}-${Date.now()}`;
    const summary = await runDemo({
      accounts: ACCOUNTS,
      scenario: "ftx-2022",
      endpoint: local.endpoint,
      tableName,
      outDir: "out/bench-demo",
    });
    const phases = { ...summary.phasesMs, start: summary.phasesMs.start + jvmStart };
    const total = summary.elapsedMs + jvmStart;
    const floor = await rawWriteFloor(local.endpoint, tableName);
    runs.push({ phases, total, floor: floor.ms, items: floor.items });
    console.log(
      `run ${run}: ${seconds(total)} s (${DEMO_PHASES.map((p) => `${p} ${seconds(phases[p])}`).join(", ")}); ` +
        `raw write of its ${floor.items} items ${seconds(floor.ms)} s; ` +
        `${summary.accountsEvaluated} evaluations, ${Object.values(summary.notifications).reduce((a, b) => a + b, 0)} notifications, ` +
        `${summary.webhooks.delivered} webhooks`,
    );
  } finally {
    await local.stop();
  }
}

console.log(`\nmedian of ${runs.length} runs, ${ACCOUNTS} accounts (s):`);
for (const phase of DEMO_PHASES)
  console.log(`  ${phase.padEnd(9)} ${seconds(median(runs.map((r) => r.phases[phase]))).padStart(6)}`);
const total = median(runs.map((r) => r.total));
const floor = median(runs.map((r) => r.floor));
console.log(`  ${"total".padEnd(9)} ${seconds(total).padStart(6)}`);
console.log(
  `raw DynamoDB Local write of the same ${median(runs.map((r) => r.items))} items: ${seconds(floor)} s; demo / raw = ${(total / floor).toFixed(1)}x`,
);
console.log(`demo: ${seconds(total)} s (target 60 s)`);

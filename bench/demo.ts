/**
 * The main job's benchmark (npm run bench:demo): the default demo (5,000 accounts, the FTX week,
 * everything of DESIGN §7) three times, each phase's wall time as the median of the three, against
 * a floor measured in the same run: the raw DynamoDB Local time to write the same items. Every
 * item the demo writes (puts, batch puts, each put and update of its transactions, updates) is
 * recorded as it is sent; after the demo they are written again into a fresh table on the same
 * DynamoDB Local with plain BatchWriteItem, 25 at a time, 4 in flight: the same data with no
 * engine, no conditions, no transactions, no reads and no stream (the table's definition without
 * its stream: what storing the items costs DynamoDB Local).
 *
 * Each run starts its own DynamoDB Local (its JVM start is in the `start` phase, as in `npm start`).
 * Last line: `demo: <s> s (target 60 s)`, the median total.
 */
import { type AttributeValue, BatchWriteItemCommand, CreateTableCommand } from "@aws-sdk/client-dynamodb";
import { connect, createTableInput } from "@backing/dynamo";
import { DEMO_PHASES, type DemoPhase, runDemo, startDynamoLocal } from "@backing/local";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 5_000);
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};
const seconds = (ms: number) => (ms / 1000).toFixed(1);

type Item = Record<string, AttributeValue>;
type Update = { Key: Item; ExpressionAttributeValues?: Item };

/** The items a request writes, in DynamoDB's attribute-value form (an update: its key and values). */
function itemsWritten(input: Record<string, unknown>): Item[] {
  const ofUpdate = ({ Key, ExpressionAttributeValues }: Update): Item => ({
    ...Object.fromEntries(
      Object.entries(ExpressionAttributeValues ?? {}).map(([k, v]) => [`v${k.slice(1)}`, v]),
    ),
    ...Key,
  });
  if (input.Item) return [input.Item as Item];
  if (input.UpdateExpression && input.Key) return [ofUpdate(input as unknown as Update)];
  if (input.RequestItems)
    return Object.values(input.RequestItems as Record<string, { PutRequest?: { Item: Item } }[]>)
      .flat()
      .flatMap((r) => (r.PutRequest ? [r.PutRequest.Item] : []));
  if (input.TransactItems)
    return (input.TransactItems as { Put?: { Item: Item }; Update?: Update }[]).flatMap((t) =>
      t.Put ? [t.Put.Item] : t.Update ? [ofUpdate(t.Update)] : [],
    );
  return [];
}

/** Writes the items into a fresh table with plain BatchWriteItem; returns the time it took. */
async function rawWrite(endpoint: string, items: Item[]): Promise<number> {
  const { client } = connect({ endpoint });
  const table = `bench-floor-${Date.now()}`;
  // The table's definition without its stream: with the stream on (and nobody reading it) the
  // same BatchWrites took 49–54 s instead of 4.4 s for a 1,000-account demo's 12,950 items.
  const { StreamSpecification: _stream, ...input } = createTableInput(table);
  await client.send(new CreateTableCommand(input));
  // A batch may not name one key twice: an item written again starts the next batch.
  const batches: Item[][] = [[]];
  let keysInBatch = new Set<string>();
  for (const item of items) {
    const key = `${item.pk?.S}\u0000${item.sk?.S}`;
    if ((batches[batches.length - 1] as Item[]).length === 25 || keysInBatch.has(key)) {
      batches.push([]);
      keysInBatch = new Set();
    }
    (batches[batches.length - 1] as Item[]).push(item);
    keysInBatch.add(key);
  }
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < batches.length) {
        let pending = (batches[next++] as Item[]).map((Item) => ({ PutRequest: { Item } }));
        while (pending.length > 0) {
          const response = await client.send(
            new BatchWriteItemCommand({ RequestItems: { [table]: pending } }),
          );
          pending = (response.UnprocessedItems?.[table] as typeof pending | undefined) ?? [];
        }
      }
    }),
  );
  return performance.now() - started;
}

const runs: { phases: Record<DemoPhase, number>; total: number; floor: number; items: number }[] = [];
for (let run = 1; run <= RUNS; run++) {
  const started = performance.now();
  const local = await startDynamoLocal();
  const jvmStart = performance.now() - started;
  try {
    const written: Item[] = [];
    const summary = await runDemo({
      accounts: ACCOUNTS,
      scenario: "ftx-2022",
      endpoint: local.endpoint,
      outDir: "out/bench-demo",
      instrument: (client) =>
        client.middlewareStack.add(
          (next) => async (args) => {
            written.push(...itemsWritten(args.input as Record<string, unknown>));
            return next(args);
          },
          { step: "build", name: "benchDemoWrites" },
        ),
    });
    const phases = { ...summary.phasesMs, start: summary.phasesMs.start + jvmStart };
    const total = summary.elapsedMs + jvmStart;
    const floor = { ms: await rawWrite(local.endpoint, written), items: written.length };
    runs.push({ phases, total, floor: floor.ms, items: floor.items });
    console.log(
      `run ${run}: ${seconds(total)} s (${DEMO_PHASES.map((p) => `${p} ${seconds(phases[p])}`).join(", ")}); ` +
        `raw write of the ${floor.items} items it wrote ${seconds(floor.ms)} s; ` +
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
  `raw DynamoDB Local write of the same ${median(runs.map((r) => r.items))} items (BatchWrite): ${seconds(floor)} s; demo / raw = ${(total / floor).toFixed(1)}x`,
);
console.log(`demo: ${seconds(total)} s (target 60 s)`);

/**
 * Engine benchmark (npm run bench:engine): one tick on a 20,000-account book that recomputes every
 * BTC-exposed account against DynamoDB Local, through the real job and the plain (uncached,
 * Lambda-like) store, split into read / compute / write; then the floor: DynamoDB Local's raw
 * throughput for the same reads (BatchGet of the same keys) and the same number of conditional
 * writes, grouped in transactions as the engine groups them, measured in the same run.
 */
import { BatchGetCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { connect, createTable, dynamoStore, keys } from "@backing/dynamo";
import { type EngineStore, ingestPriceEvents, recomputeAccounts } from "@backing/engine";
import { demoBook, startDynamoLocal } from "@backing/local";

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 20_000);
const VOLATILITY = { BTC: "0.9", ETH: "1.1", SOL: "1.3" };
const PRICES = { BTC: "21000", ETH: "1610", SOL: "35", USDT: "1", USDC: "1", stETH: "1593.9" };
const READS = new Set(["getAccounts", "getRiskStates", "exposedAccountIds", "getPrices", "getParams"]);
const WRITES = new Set(["writeState", "writeStates", "putSnapshot", "applyPriceUpdate"]);

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const rate = (n: number, ms: number) => `${Math.round(n / (ms / 1000)).toLocaleString("en-US")}/s`;

/**
 * The store with its calls timed by kind, as wall time during which at least one call of that kind
 * was in flight (state writes run concurrently, so summing their durations would overcount).
 */
function timed(store: EngineStore) {
  const spent = { read: 0, write: 0 };
  const active = { read: 0, write: 0 };
  const since = { read: 0, write: 0 };
  const wrapped = Object.create(store) as EngineStore;
  for (const name of [...READS, ...WRITES]) {
    const method = (store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[name];
    if (!method) continue;
    const kind = READS.has(name) ? "read" : "write";
    (wrapped as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      if (active[kind]++ === 0) since[kind] = performance.now();
      try {
        return await method.apply(store, args);
      } finally {
        if (--active[kind] === 0) spent[kind] += performance.now() - since[kind];
      }
    };
  }
  return { store: wrapped, spent };
}

const local = await startDynamoLocal({ maxHeap: "1g" });
try {
  const { client, documents } = connect({ endpoint: local.endpoint });
  const tableName = "bench-engine";
  await createTable(client, tableName);
  const plain = dynamoStore(documents, tableName);
  const book = demoBook({
    accounts: ACCOUNTS,
    prices: PRICES,
    futureExpiry: "2022-12-30T08:00:00Z",
    optionExpiry: "2022-11-25T08:00:00Z",
  });
  let start = performance.now();
  await plain.putAccounts(book);
  console.log(
    `seeded ${ACCOUNTS.toLocaleString("en-US")} accounts (+ exposure items) in ${seconds(performance.now() - start)}`,
  );

  const t0 = Date.parse("2022-11-08T00:00:00Z");
  const tick = (minute: number, btc: string) =>
    Object.entries({ ...PRICES, BTC: btc }).map(([asset, index]) => ({
      eventId: `${asset}@${minute}`,
      asset,
      index,
      timestamp: new Date(t0 + minute * 60_000).toISOString(),
      source: "bench",
    }));
  // Prime: every price known and every account evaluated once.
  await ingestPriceEvents(tick(0, PRICES.BTC), { store: plain, now: () => t0 });
  await recomputeAccounts(
    book.map((a) => a.id),
    { store: plain, now: () => t0, volatility: VOLATILITY },
  );

  // The measured tick: BTC −6%.
  const now = t0 + 60_000;
  const { store, spent } = timed(plain);
  start = performance.now();
  const ingest = await ingestPriceEvents(tick(1, "19740"), { store, now: () => now });
  const ids = await store.exposedAccountIds("BTC");
  const result = await recomputeAccounts(ids, { store, now: () => now, volatility: VOLATILITY });
  const total = performance.now() - start;
  const compute = total - spent.read - spent.write;
  console.log(
    `\ntick: BTC 21,000 → 19,740 (${ingest.movedAssets.size} asset moved), ${ids.length.toLocaleString("en-US")} BTC-exposed accounts, ${result.written} states written`,
  );
  console.log(`  total   ${seconds(total)}  (${rate(ids.length, total)} accounts)`);
  console.log(`  read    ${seconds(spent.read)}`);
  console.log(`  compute ${seconds(compute)}`);
  console.log(`  write   ${seconds(spent.write)}`);

  // The floor: the same reads as raw BatchGets, and as many raw conditional transactions.
  start = performance.now();
  const keyList = ids.flatMap((id) => [keys.account(id), keys.riskState(id)]);
  for (let i = 0; i < keyList.length; i += 100) {
    await documents.send(
      new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keyList.slice(i, i + 100) } } }),
    );
  }
  const rawRead = performance.now() - start;
  start = performance.now();
  // As many conditional puts, grouped as the engine groups its state writes (up to 100 per
  // transaction, 4 transactions in flight).
  const writes = Math.max(result.written, 1);
  const groups = Math.ceil(writes / 100);
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < groups) {
        const group = next++;
        await documents.send(
          new TransactWriteCommand({
            TransactItems: Array.from({ length: Math.min(100, writes - group * 100) }, (_, i) => ({
              Put: {
                TableName: tableName,
                Item: { pk: `FLOOR#${group * 100 + i}`, sk: "X", v: 1 },
                ConditionExpression: "attribute_not_exists(pk)",
              },
            })),
          }),
        );
      }
    }),
  );
  const rawWrite = performance.now() - start;
  const floor = rawRead + rawWrite;
  console.log(
    `\nfloor (raw DynamoDB Local, same run): read ${keyList.length.toLocaleString("en-US")} items ${seconds(rawRead)} (${rate(keyList.length, rawRead)}), ${writes} conditional writes ${seconds(rawWrite)}`,
  );
  console.log(`  floor total ${seconds(floor)}  (${rate(ids.length, floor)} accounts)`);
  console.log(`\ntick / floor: ${(total / floor).toFixed(2)}× the raw store time`);
} finally {
  await local.stop();
}

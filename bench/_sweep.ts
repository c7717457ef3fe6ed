import { Session } from "node:inspector/promises";
import { writeFileSync } from "node:fs";
import { connect, createTable, DynamoEngineStore } from "@backing/dynamo";
import { ingestPriceEvents, sweepAccounts } from "@backing/engine";
import { demoBook, startDynamoLocal } from "@backing/local";
const PRICES = { BTC: "21000", ETH: "1610", SOL: "35", USDT: "1", USDC: "1", stETH: "1593.9" };
const VOLATILITY = { BTC: "0.9", ETH: "1.1", SOL: "1.3" };
const T0 = Date.parse("2022-11-08T00:00:00Z");
const book = demoBook({ accounts: 20000, prices: PRICES, futureExpiry: "2022-12-30T08:00:00Z", optionExpiry: "2022-11-25T08:00:00Z" });
const local = await startDynamoLocal({ maxHeap: "1g" });
const { client, documents } = connect({ endpoint: local.endpoint });
await createTable(client, "bench-x");
const store = new DynamoEngineStore(documents, "bench-x");
for (let i = 0; i < book.length; i += 2_000) await store.putAccounts(book.slice(i, i + 2_000));
await ingestPriceEvents(Object.entries(PRICES).map(([asset, index]) => ({ eventId: `${asset}@0`, asset, index, timestamp: new Date(T0).toISOString(), source: "b" })), { store, now: () => T0 });
await sweepAccounts({ store, now: () => T0, volatility: VOLATILITY }, { pageSize: 1_000 });
const session = new Session();
session.connect();
for (let k = 0; k < 2; k++) {
  let t = performance.now();
  for await (const page of store.scanBook(1000)) void page;
  const raw = performance.now() - t;
  if (k === 1) { await session.post("Profiler.enable"); await session.post("Profiler.start"); }
  t = performance.now();
  await sweepAccounts({ store, now: () => T0 + 1000, volatility: VOLATILITY }, { pageSize: 1_000 });
  console.log("raw", raw.toFixed(0), "sweep", (performance.now() - t).toFixed(0));
}
const { profile } = await session.post("Profiler.stop");
writeFileSync("/tmp/sweep.cpuprofile", JSON.stringify(profile));
await local.stop();

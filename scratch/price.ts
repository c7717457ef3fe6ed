import { connect, createTable, DynamoEngineStore } from "@backing/dynamo";
import { startDynamoLocal, StreamPoller } from "@backing/local";
const local = await startDynamoLocal();
const { client, documents } = connect({ endpoint: local.endpoint });
await createTable(client, "ttt");
const store = new DynamoEngineStore(documents, "ttt");
async function run(label: string, n: number) {
  let prev = (await store.getPrices()).get("BTC") ?? { latest: null, held: null };
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    const update = { asset: "BTC", index: String(20000 + i), mark: String(20000 + i), timestampMs: Date.now() + i, sequence: null, source: "x", eventId: `${label}-${i}` };
    const r = await store.applyPriceUpdate(update, "accept", prev);
    if (r !== "applied") throw new Error(r);
    prev = { latest: update, held: null };
  }
  console.log(label, ((performance.now() - t) / n).toFixed(2), "ms per update");
}
await run("warm", 300);
await run("idle", 300);
const poller = new StreamPoller({ endpoint: local.endpoint, tableName: "ttt", idleMs: 25, batchSize: 1000, handler: async () => ({ batchItemFailures: [] }) });
poller.start();
await run("with poller", 300);
await poller.stop();
await local.stop();

import { connect, createTable, DynamoEngineStore } from "@backing/dynamo";
import { demoBook, startDynamoLocal, SCENARIOS } from "@backing/local";
import { readFileSync } from "node:fs";
const jcpu = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" "); return (Number(f[11]) + Number(f[12])) * 10; };
const t0 = performance.now();
const local = await startDynamoLocal();
const t1 = performance.now();
const { client, documents } = connect({ endpoint: local.endpoint });
await createTable(client, "ttt");
const store = new DynamoEngineStore(documents, "ttt");
const first = SCENARIOS["ftx-2022"]!.path()[0]!;
const book = demoBook({ accounts: 5000, prices: first.prices, futureExpiry: "2022-12-30T08:00:00Z", optionExpiry: "2022-11-25T08:00:00Z" });
const t2 = performance.now(); const j2 = jcpu(local.pid!); const n2 = process.cpuUsage();
await store.putAccounts(book);
const t3 = performance.now(); const j3 = jcpu(local.pid!); const n3 = process.cpuUsage(n2);
let n = 0;
for (const a of book.slice(0, 1500)) {
  await store.writeState({ state: { accountId: a.id, venue: a.venue, status: "WARNING", episode: null, version: 1, equity: "1", initialMargin: "1", maintenanceMargin: "1", callAmount: "0", paramsVersion: "x", snapshotId: "s", evaluatedAtMs: 0, snapshotOrder: 0 } as never, previous: null, notifications: [] });
  n++;
}
const t4 = performance.now();
await Promise.all(Array.from({ length: 4 }, async (_, k) => { for (const a of book.slice(1500 + k * 500, 2000 + k * 500)) await store.writeState({ state: { accountId: a.id, venue: a.venue, status: "WARNING", episode: null, version: 1, equity: "1", initialMargin: "1", maintenanceMargin: "1", callAmount: "0", paramsVersion: "x", snapshotId: "s", evaluatedAtMs: 0, snapshotOrder: 0 } as never, previous: null, notifications: [] }); }));
const t5 = performance.now();
console.log(JSON.stringify({ start: t1 - t0, seed: t3 - t2, seedJava: j3 - j2, seedNode: (n3.user + n3.system) / 1000, seqTx1500: t4 - t3, par4Tx2000: t5 - t4 }));
await local.stop();

import { BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import { connect, createTable } from "@backing/dynamo";
import { startDynamoLocal } from "@backing/local";
const local = await startDynamoLocal();
const { client, documents } = connect({ endpoint: local.endpoint });
await createTable(client, "ttt");
async function put(items: Record<string, unknown>[]) {
  const t = performance.now();
  const chunks = []; for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => { while (next < chunks.length) { const c = chunks[next++]!; await documents.send(new BatchWriteCommand({ RequestItems: { ttt: c.map((Item) => ({ PutRequest: { Item } })) } })); } }));
  return Math.round(performance.now() - t);
}
const N = 10000;
const big = "x".repeat(1500);
console.log("warm", await put(Array.from({ length: N }, (_, i) => ({ pk: `W#${i}`, sk: "A" }))));
console.log("plain", await put(Array.from({ length: N }, (_, i) => ({ pk: `P#${i}`, sk: "A" }))));
console.log("gsi1", await put(Array.from({ length: N }, (_, i) => ({ pk: `G#${i}`, sk: "A", gsi1pk: `L#${i % 8}`, gsi1sk: "~" }))));
console.log("gsi1+2", await put(Array.from({ length: N }, (_, i) => ({ pk: `H#${i}`, sk: "A", gsi1pk: `L#${i % 8}`, gsi1sk: "~", gsi2pk: `M#${i % 8}`, gsi2sk: "!" }))));
console.log("big", await put(Array.from({ length: N }, (_, i) => ({ pk: `B#${i}`, sk: "A", doc: big }))));
console.log("plain again", await put(Array.from({ length: N }, (_, i) => ({ pk: `Q#${i}`, sk: "A" }))));
await local.stop();

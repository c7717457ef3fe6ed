import { PutCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { connect, createTable } from "@backing/dynamo";
import { startDynamoLocal } from "@backing/local";
const local = await startDynamoLocal();
const { client, documents } = connect({ endpoint: local.endpoint });
await createTable(client, "ttt");
const N = 2000;
async function time(label: string, op: (i: number) => Promise<unknown>, conc = 1) {
  const t = performance.now(); let next = 0;
  await Promise.all(Array.from({ length: conc }, async () => { while (next < N) await op(next++); }));
  console.log(label, conc, Math.round(performance.now() - t));
}
const put = (p: string) => (i: number) => documents.send(new PutCommand({ TableName: "ttt", Item: { pk: `${p}${i}`, sk: "A", x: "y".repeat(600) }, ConditionExpression: "attribute_not_exists(pk)" }));
const upd = (p: string) => (i: number) => documents.send(new UpdateCommand({ TableName: "ttt", Key: { pk: `${p}${i}`, sk: "L" }, UpdateExpression: "SET #q = list_append(if_not_exists(#q, :e), :ids) ADD #v :one", ExpressionAttributeNames: { "#q": "q", "#v": "v" }, ExpressionAttributeValues: { ":e": [], ":ids": ["abc"], ":one": 1 }, ReturnValues: "ALL_NEW" }));
const tx = (p: string) => (i: number) => documents.send(new TransactWriteCommand({ TransactItems: [
  { Put: { TableName: "ttt", Item: { pk: `${p}${i}`, sk: "A", x: "y".repeat(600) }, ConditionExpression: "attribute_not_exists(pk)" } },
  { Update: { TableName: "ttt", Key: { pk: `${p}${i}`, sk: "L" }, UpdateExpression: "SET #q = list_append(if_not_exists(#q, :e), :ids) ADD #v :one", ExpressionAttributeNames: { "#q": "q", "#v": "v" }, ExpressionAttributeValues: { ":e": [], ":ids": ["abc"], ":one": 1 } } } ] }));
await time("warm put", put("W"), 8); await time("warm upd", upd("W"), 8); await time("warm tx", tx("WT"), 8);
for (const c of [1, 8]) { await time("put", put(`P${c}`), c); await time("upd", upd(`U${c}`), c); await time("tx2", tx(`T${c}`), c); }
await local.stop();

import { randomUUID } from "node:crypto";
import { connect, createTable, deleteTable, dynamoStore } from "@backing/dynamo";
import { inject } from "vitest";

/** A fresh table on the run's DynamoDB Local, and a store over it. */
export async function freshStore() {
  const { client, documents } = connect({ endpoint: inject("dynamoEndpoint") });
  const tableName = `test-${randomUUID()}`;
  await createTable(client, tableName);
  return {
    client,
    documents,
    tableName,
    store: dynamoStore(documents, tableName),
    drop: () => deleteTable(client, tableName),
  };
}

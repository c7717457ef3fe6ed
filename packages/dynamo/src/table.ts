import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteTableCommand,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";

import { TABLE } from "./table-definition.ts";

export { TABLE };

export function createTableInput(
  tableName: string,
  options: { stream?: boolean } = {},
): CreateTableCommandInput {
  const { gsi1, gsi2 } = TABLE.indexes;
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [
      TABLE.partitionKey,
      TABLE.sortKey,
      gsi1.partitionKey,
      gsi1.sortKey,
      gsi2.partitionKey,
      gsi2.sortKey,
    ].map((name) => ({ AttributeName: name, AttributeType: "S" })),
    KeySchema: [
      { AttributeName: TABLE.partitionKey, KeyType: "HASH" },
      { AttributeName: TABLE.sortKey, KeyType: "RANGE" },
    ],
    GlobalSecondaryIndexes: Object.entries(TABLE.indexes).map(([name, index]) => ({
      IndexName: name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: "HASH" as const },
        { AttributeName: index.sortKey, KeyType: "RANGE" as const },
      ],
      Projection: { ProjectionType: "ALL" as const },
    })),
    ...(options.stream === false
      ? {}
      : { StreamSpecification: { StreamEnabled: true, StreamViewType: TABLE.stream } }),
  };
}

/**
 * `stream: false` for a table nothing reads the stream of (a replay without webhooks): DynamoDB
 * Local writes every stream record into its SQLite file, and a long run slows down on them.
 */
export async function createTable(
  client: DynamoDBClient,
  tableName: string,
  options: { stream?: boolean } = {},
): Promise<void> {
  await client.send(new CreateTableCommand(createTableInput(tableName, options)));
}

export async function deleteTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(new DeleteTableCommand({ TableName: tableName }));
}

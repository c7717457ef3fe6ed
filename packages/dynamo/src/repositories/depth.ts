import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { DepthSnapshot } from "@backing/contracts";
import type { DepthRepository, DepthWriteResult } from "@backing/engine";
import { keys } from "../keys.ts";
import type { TableClient } from "../table-client.ts";

/** The latest order-book snapshot per asset, one item each in one partition. */
export class DynamoDepth implements DepthRepository {
  constructor(private readonly table: TableClient) {}

  async getDepth(): Promise<DepthSnapshot[]> {
    const items = await this.table.queryAll(keys.depthPartition);
    return items.map((item) => item.depth as DepthSnapshot);
  }

  async putDepth(snapshot: DepthSnapshot): Promise<DepthWriteResult> {
    const timestampMs = Date.parse(snapshot.timestamp);
    try {
      await this.table.documents.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: { ...keys.depth(snapshot.asset), type: "depth", depth: snapshot, timestampMs },
          // Two posts racing: the later timestamp wins whatever order they land in.
          ConditionExpression: "attribute_not_exists(pk) OR timestampMs <= :t",
          ExpressionAttributeValues: { ":t": timestampMs },
        }),
      );
      return { stored: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const stored = await this.table.documents.send(
        new GetCommand({
          TableName: this.table.tableName,
          Key: keys.depth(snapshot.asset),
          ConsistentRead: true,
        }),
      );
      const latest = stored.Item?.depth as DepthSnapshot | undefined;
      // The condition failed, so an item was there; gone since, the caller may post again.
      return { stored: false, latest: latest?.timestamp ?? snapshot.timestamp };
    }
  }
}
